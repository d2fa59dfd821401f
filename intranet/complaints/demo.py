"""Service cases of the demo company (rules P1-P8), so each role finds work after
`./dev start`: the desk an open consultation, a complaint to assign and a reply to follow up;
the handler a severe VIP complaint to start and one under investigation; sales manager 1 an
overdue complaint to decide (naming one of his reps), manager 2 a suggestion; the GM an
escalated complaint; the archivist a closed one with its verified corrective action.

Every case is registered with operations.register and moved with engine.fire at past times
(clock.at), so numbers, deadlines, history and notifications are the real ones. Called by
intranet/demo.py; adds nothing if any case exists."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from intranet.complaints import operations
from intranet.core import clock, settings
from intranet.extensions import db
from intranet.models import Customer, ServiceCase, User
from intranet.workflows import engine

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def load_cases(users: dict[str, User]) -> None:
    if db.session.scalar(select(func.count()).select_from(ServiceCase)):
        return
    now = clock.now()
    desk, handler = users["desk"], users["handler"]
    manager1, manager2 = users["manager1"], users["manager2"]
    pick = _Customers(manager1.department_id, manager2.department_id)

    # Consultations (P5, P7): answered on the spot; answered the same afternoon; one waiting.
    _register(now - 2 * DAY, "consultation", desk, customer=pick(1),
              description="询问本月订单的开票时间和发票寄送方式",
              first_answer="开票后三个工作日内以顺丰寄出，已告知单号查询方式")
    case = _register(now - DAY - 6 * HOUR, "consultation", desk, channel="visit",
                     complainant_name="郑先生", complainant_phone="13912345678",
                     description="来访询问代理经销的条件和流程", plan="请销售部整理经销政策后回复",
                     promised_in=1)
    _fire(case, now - DAY, "answer", desk, comment="已电话告知经销条件，并邮件发送经销商申请表")
    _register(now - 3 * HOUR, "consultation", desk, customer=pick(2), channel="online",
              description="在线留言询问新款包装材料的最小起订量和交期",
              plan="向生产部确认后答复", promised_in=1)
    case = _register(now - 2 * HOUR, "consultation", desk, customer=pick(1), description=(
        "来电咨询上月到货的产品规格，经核对发现与合同不符，客户要求处理"),
        plan="转为投诉，由投诉专员调查后答复", promised_in=5)
    _fire(case, now - HOUR, "convert", desk, comment="规格与合同不符，属于质量投诉")

    # A suggestion reported to the manager of the customer's department (P5).
    case = _register(now - 2 * DAY, "suggestion", desk, customer=pick(2), channel="letter",
                     description="建议增加月度对账单的电子版，并提供在线查询",
                     plan="报部门经理研究后答复", promised_in=10)
    _fire(case, now - 2 * DAY + HOUR, "report", desk, leader_id=manager2.id)

    # Complaints through the steps: a severe one of a VIP customer just assigned (P6) ...
    _register(now - HOUR, "complaint", desk, customer=pick(1, vip=True), severity="severe",
              description="整批货物受潮无法使用，影响客户生产线，要求立即处理",
              plan="今日安排投诉专员到现场调查", promised_in=2, handler_id=handler.id)
    # ... one under investigation, the customer told the arrangement and the progress (P4) ...
    start = now - DAY - 3 * HOUR
    case = _register(start, "complaint", desk, customer=pick(2), channel="phone",
                     description="送货延误三天，且未提前通知", plan="调查物流记录后答复",
                     promised_in=5, handler_id=handler.id)
    _fire(case, start + HOUR, "start", handler)
    _contact(case, start + 2 * HOUR, "arrangement", "已告知客户正在调查物流记录，五日内答复",
             handler)
    _contact(case, now - 2 * HOUR, "progress", "已向客户说明延误原因为承运商调度问题，仍在核实",
             handler)
    # ... one overdue with sales manager 1, naming a rep of his department (P2, P3) ...
    start = now - 20 * DAY
    case = _register(start, "complaint", desk, customer=pick(1), channel="visit",
                     subject_ids=[users["rep2"].id], description=(
                         "业务员多次承诺的返利未兑现，客户认为受到误导"),
                     plan="调查返利约定后书面答复", promised_in=7, handler_id=handler.id)
    _fire(case, start + 2 * HOUR, "start", handler)
    _contact(case, start + 3 * HOUR, "arrangement", "已告知客户调查安排，决定前不作任何承诺",
             handler)
    _fire(case, start + 3 * DAY, "give_opinion", handler, comment=(
        "合同未约定返利，业务员口头承诺属实。建议按承诺的一半给予折让，并对业务员进行批评教育"))
    # ... one escalated by sales manager 2 to the GM (P3) ...
    start = now - 3 * DAY
    case = _register(start, "complaint", desk, customer=pick(2), severity="serious",
                     description="产品质量问题导致客户终端召回，客户要求赔偿损失",
                     plan="调查质量记录，总经理办公会决定后答复", promised_in=5,
                     handler_id=handler.id)
    _fire(case, start + HOUR, "start", handler)
    _fire(case, start + DAY, "give_opinion", handler, comment=(
        "质检记录显示该批次密封件不合格，责任在我方。涉及赔偿金额较大，建议提交总经理决定"))
    _fire(case, start + DAY + 4 * HOUR, "escalate", manager2, comment="赔偿金额超出部门权限")
    # ... one replied, for the desk to follow up with the customer (P8) ...
    _through(now - 5 * DAY, pick(2), manager2, users, upto="reply", description=(
        "发票抬头开错，导致客户无法入账"))
    # ... and one closed with its corrective action verified (P8).
    case = _through(now - 25 * DAY, pick(1), manager1, users, upto="follow_up", description=(
        "包装破损导致部分货物损坏"))
    with clock.at(now - 15 * DAY):
        action = operations.add_action(case, "装车时增加护角和缓冲材料，物流部每月抽查",
                                       manager1, (now - 5 * DAY).date(), handler)
    with clock.at(now - 6 * DAY):
        operations.verify_action(case, action, desk)
    db.session.flush()  # the close checks the stored actions (engine.fire does not autoflush)
    _fire(case, now - 6 * DAY + HOUR, "close", desk)


def _through(start, customer, manager, users, upto: str, description: str) -> ServiceCase:
    """A complaint taken along the whole path, step by step over a few days, up to `upto`."""
    desk, handler = users["desk"], users["handler"]
    case = _register(start, "complaint", desk, customer=customer, description=description,
                     plan="核实后三个工作日内答复", promised_in=4, handler_id=handler.id)
    steps = [("start", handler, HOUR, ""),
             ("give_opinion", handler, DAY, "情况属实，建议补发并致歉"),
             ("decide", manager, DAY + 3 * HOUR, "同意补发，并书面致歉"),
             ("implement", handler, 2 * DAY, "已补发"),
             ("reply", handler, 2 * DAY + 2 * HOUR, "书面答复：已补发并致歉，感谢您的反馈"),
             ("follow_up", desk, 4 * DAY, "回访：客户表示满意")]
    _contact(case, start + 2 * HOUR, "arrangement", "已告知客户处理安排", handler)
    for event, user, after, comment in steps:
        _fire(case, start + after, event, user, comment=comment)
        if event == upto:
            break
    return case


def _register(at, kind: str, desk: User, *, customer=None, channel: str = "phone",
              promised_in: int | None = None, **fields) -> ServiceCase:
    with clock.at(at):
        promised = (at.astimezone(settings.tz()) + promised_in * DAY).date() \
            if promised_in else None
        return operations.register(operations.Intake(
            kind=kind, channel=channel, received_at=at, customer=customer,
            promised_on=promised, **fields), desk)


def _fire(case: ServiceCase, at, event: str, user: User, **data) -> None:
    with clock.at(at):
        engine.fire(case, event, user=user, **data)


def _contact(case: ServiceCase, at, kind: str, note: str, user: User) -> None:
    with clock.at(at):
        operations.add_contact(case, kind, note, user)


class _Customers:
    """The next unused customer of sales department 1 or 2, the biggest first: a general
    (一般) one, or a VIP one when asked (rule P6 puts VIP and key customers' cases first)."""

    def __init__(self, *departments: int):
        self.departments, self.used = departments, set()

    def __call__(self, which: int, vip: bool = False) -> Customer:
        query = select(Customer).where(Customer.department_id == self.departments[which - 1],
                                       Customer.id.not_in(self.used or {0}))
        for tier in (("vip",) if vip else ("general",)), None:
            tiered = query.where(Customer.tier.in_(tier)) if tier else query
            customer = db.session.scalars(tiered.order_by(
                Customer.sales_12m.desc(), Customer.id).limit(1)).first()
            if customer is not None:
                self.used.add(customer.id)
                return customer
        raise LookupError("the demo company has too few customers")
