"""Demo data of customer resources (rules R1, R5, R6): a shared pool with returned customers,
transfers at each step and a claim, so every role finds something waiting."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from intranet.extensions import db
from intranet.models import Customer, ReclaimRule, ResourceRequest, User
from intranet.resources import (
    allocation,
    disputes,
    intake,
    ownership,
    reclaim,
    requests,
    suspensions,
)
from intranet.workflows import engine

POOL_SIZE = 8


def load_resources(users: dict[str, User]) -> None:
    if db.session.scalar(select(ResourceRequest.id).limit(1)) is not None:
        return
    reclaim.ensure_defaults()
    rep1, rep2, manager = users["rep1"], users["rep2"], users["manager1"]
    owned = {rep.id: list(db.session.scalars(
        select(Customer).where(Customer.owner_id == rep.id).order_by(Customer.id).limit(20)))
        for rep in (rep1, rep2)}
    if len(owned[rep1.id]) < 12 or len(owned[rep2.id]) < 4:
        return
    rule = db.session.scalar(select(ReclaimRule).where(ReclaimRule.kind == "no_activity"))
    for customer in owned[rep1.id][-POOL_SIZE:]:  # returned after two months without activity
        ownership.change_owner(customer, None, "reclaim", actor=None, pool_id=rule.pool_id,
                               reason=f"reclaim_rule:{rule.id}", object_type="reclaim_rule",
                               object_id=rule.id)
    db.session.flush()
    requests.request_transfer(owned[rep1.id][0], rep2, requested_by=rep1,
                                        reason="客户搬迁至李娜负责的区域，就近服务")
    agreed = requests.request_transfer(owned[rep2.id][0], rep1, requested_by=rep2,
                                       reason="客户点名希望由张伟继续跟进")
    engine.fire(agreed, "confirm", user=rep1, comment="同意接手")
    done = requests.request_transfer(owned[rep2.id][1], rep1, requested_by=rep1,
                                     reason="张伟与客户采购负责人是老关系")
    engine.fire(done, "confirm", user=rep2, comment="同意")
    engine.fire(done, "approve", user=manager, comment="同意转移，注意交接在途订单")
    requests.claim(owned[rep1.id][-1], rep2, "曾参与该客户的展会接待，客户有采购意向")
    _leads_and_allocation(users)


def _leads_and_allocation(users: dict[str, User]) -> None:
    """Rules C4, R7-R9: the desk's leads waiting in the pool, one allocated (its first contact
    running) and questioned by its rep, and a penalty on a rep of the second department."""
    desk, rep1, manager1 = users["desk"], users["rep1"], users["manager1"]
    rep1.experience, users["rep2"].experience = "senior", "intermediate"
    leads = [intake.register_lead(intake.Lead(
        name=name, region=region, deal_value=Decimal(value), contact_name=contact,
        contact_phone=phone), desk)
        for name, region, value, contact, phone in (
            ("上海浦江智造装备有限公司", "上海", "950000", "钱经理", "13912340001"),
            ("杭州钱塘新材料有限公司", "杭州", "450000", "孙总", "13912340002"),
            ("南京秦淮包装科技有限公司", "南京", "120000", "周主管", "13912340003"))]
    allocation.allocate(leads[1], rep1, manager1, manager1.department_id,
                        reason="区域匹配，中级业务员")
    disputes.file_reclassification(leads[1], rep1, "A", "客户已确认年度采购预算超过一百万元")
    suspensions.record(users["rep3"], "私下与同事交换客户，未经总监审批", users["manager2"])
