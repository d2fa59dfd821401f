"""The demo company (`flask demo`): departments, one account per role, a few customers.
Idempotent: existing rows are kept, missing ones are added."""
from __future__ import annotations

from intranet import audit, notifications, passwords
from intranet.extensions import db
from intranet.models import Customer, Department, User
from intranet.roles import Role

DEMO_PASSWORD = "demo-pass-2026"

DEPARTMENTS = [
    ("sales1", "销售一部", "Sales Dept. 1"),
    ("sales2", "销售二部", "Sales Dept. 2"),
    ("service", "客户服务部", "Customer Service"),
    ("finance", "财务部", "Finance"),
    ("gmo", "总经理办公室", "General Manager's Office"),
    ("archive", "档案室", "Archive Room"),
    ("it", "信息技术部", "IT"),
]

USERS = [
    ("rep1", "张伟", "sales1", [Role.SALES_REP]),
    ("rep2", "李娜", "sales1", [Role.SALES_REP]),
    ("rep3", "王强", "sales2", [Role.SALES_REP]),
    ("manager1", "刘洋", "sales1", [Role.SALES_MANAGER]),
    ("manager2", "陈静", "sales2", [Role.SALES_MANAGER]),
    ("desk", "杨敏", "service", [Role.SERVICE_DESK]),
    ("handler", "赵磊", "service", [Role.COMPLAINT_HANDLER]),
    ("finance", "黄丽", "finance", [Role.FINANCE]),
    ("gm", "周建国", "gmo", [Role.GENERAL_MANAGER]),
    ("deputy", "吴芳", "gmo", [Role.SALES_MANAGER]),
    ("archivist", "徐静", "archive", [Role.ARCHIVIST]),
    ("admin", "孙涛", "it", [Role.ADMIN]),
]

CUSTOMERS = [
    ("上海华东精密机械有限公司", "上海", "rep1"),
    ("杭州西湖电子科技股份有限公司", "浙江", "rep1"),
    ("南京金陵包装材料有限公司", "江苏", "rep2"),
    ("苏州工业园区恒通物流有限公司", "江苏", "rep2"),
    ("广州珠江化工有限公司", "广东", "rep3"),
    ("深圳前海智联信息技术有限公司", "广东", "rep3"),
]


def load_demo() -> list[tuple[str, str, str]]:
    departments = {}
    for code, zh, en in DEPARTMENTS:
        dept = db.session.scalar(db.select(Department).where(Department.code == code))
        if dept is None:
            dept = Department(code=code, name_zh=zh, name_en=en)
            db.session.add(dept)
        departments[code] = dept
    db.session.flush()

    users = {}
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    for username, name, dept, roles in USERS:
        user = db.session.scalar(db.select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=name, department=departments[dept],
                        password_hash=password_hash, email=f"{username}@example.cn")
            user.set_roles(roles)
            db.session.add(user)
            db.session.flush()
            notifications.notify(user.id, "welcome")
            audit.record(audit.Action.CREATE, "user", user.id, details={"source": "demo"})
        users[username] = user

    for name, region, owner in CUSTOMERS:
        if db.session.scalar(db.select(Customer).where(Customer.name == name)) is None:
            db.session.add(Customer(name=name, region=region, owner=users[owner],
                                    department=users[owner].department))
    db.session.flush()
    return [(u, n, ", ".join(str(r.label) for r in roles)) for u, n, _d, roles in USERS]
