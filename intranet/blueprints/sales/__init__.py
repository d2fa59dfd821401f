from flask import Blueprint

bp = Blueprint("sales", __name__)

from intranet.blueprints.sales import (  # noqa: E402,F401
    allocation,
    allocation_widgets,
    credit,
    customer_file,
    customers,
    orders,
    pool,
    pool_claims,
    reclaims,
    reps,
    requests,
    transfers,
    visit_plans,
    visit_widgets,
    visits,
    widgets,
)
