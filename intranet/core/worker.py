"""The task-queue consumer's entry point (DESIGN.md "Background work"):

    huey_consumer intranet.core.worker.huey -w 2 -k process

creates the Flask app once for the consumer (forked workers inherit it and open their own
database connections) and binds it to the queue, so every task runs in an app context."""
from intranet import create_app
from intranet.core import queue
from intranet.extensions import db

app = create_app()
queue.bind(app)
huey = queue.huey


@huey.on_startup("fresh_connections")
def fresh_connections() -> None:
    """A forked worker never shares the parent's database connections."""
    with app.app_context():
        db.engine.dispose()
