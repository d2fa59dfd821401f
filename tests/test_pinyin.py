"""Issue 13 §7: customers are found by the pinyin of their name and its initials (shhx finds
上海华兴…), and lists sort A→Z by pinyin, not by code point, on both databases.

The readings below are written by hand (what a Chinese reader says), not computed by the
code under test; the index's equivalence to a plain scan is in test_search_index.py."""
import re

import pytest
from conftest import login_fast
from sqlalchemy import insert, select

from intranet.core.roles import Role
from intranet.customers.names import name_pinyin
from intranet.extensions import db
from intranet.models import Customer, User

READINGS = {
    "上海华兴精密机械有限公司": ("shanghaihuaxingjingmijixieyouxiangongsi", "shhxjmjxyxgs"),
    "重庆长安汽车": ("chongqingchanganqiche", "cqcaqc"),  # 重 and 长 read in their words
    "长沙市长": ("changshashizhang", "cssz"),
    "厦门银行": ("xiamenyinhang", "xmyh"),
    "ABB（中国）有限公司": ("abbzhongguoyouxiangongsi", "abbzgyxgs"),
    "Ｓｏｎｙ 上海": ("sonyshanghai", "sonysh"),
    "绿地": ("lvdi", "ld"),
    "": ("", ""),
}
# Unicode order puts 上 (U+4E0A) first and 阿 (U+963F) after 北 (U+5317): pinyin order is
# a, b, c, h, s, z.
NAMES_BY_PINYIN = ["阿里巴巴贸易", "北京燕山机械", "重庆长安汽车", "杭州恒通物流", "上海华兴精密",
                   "张家港钢铁"]


def _rows(body: str) -> list[str]:
    return [n for n in re.findall(r">([^<>]+?)</a>", body) if n in NAMES_BY_PINYIN]


@pytest.mark.parametrize("name", READINGS)
def test_a_name_reads_as_a_chinese_reader_says_it(name):
    assert name_pinyin(name) == READINGS[name]


def test_the_columns_follow_the_name_however_it_is_written(app, staff):
    """The ORM keeps them on insert and rename; a bulk insert without them gets them too."""
    with app.app_context():
        customer = Customer(name="上海华兴精密机械有限公司")
        db.session.add(customer)
        db.session.execute(insert(Customer), [{"name": "重庆长安汽车"}, {"name": "厦门银行"}])
        db.session.commit()
        spelled = dict(db.session.execute(select(Customer.name, Customer.name_initials)).all())
        assert spelled == {"上海华兴精密机械有限公司": "shhxjmjxyxgs", "重庆长安汽车": "cqcaqc",
                           "厦门银行": "xmyh"}
        customer.name = "厦门银行上海分行"
        db.session.commit()
        assert (customer.name_pinyin, customer.name_initials) == (
            "xiamenyinhangshanghaifenhang", "xmyhshfh")
        rep = db.session.get(User, staff[Role.SALES_REP].id)
        rep.display_name = "张伟"
        db.session.commit()
        assert rep.name_pinyin == "zhangwei"


@pytest.mark.parametrize("typed", ["shhx", "SHHX", "shanghaihuaxing", "Shang Hai Hua",
                                   "huaxingjingmi", "hxjm", "ｓｈｈｘ"])
def test_the_customer_list_finds_a_company_by_its_pinyin(app, client, staff, make_customer,
                                                          typed):
    make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    make_customer("杭州恒通物流有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    body = client.get("/sales/customers", query_string={"q": typed}).get_data(as_text=True)
    assert "上海华兴精密机械有限公司" in body
    assert "杭州恒通物流有限公司" not in body


@pytest.mark.parametrize("typed", ["shhy", "xs", "s1", "h"])
def test_letters_that_are_not_the_names_reading_find_nothing(app, client, staff,
                                                             make_customer, typed):
    """A reading of other syllables, digits mixed in, a single letter: not a pinyin search."""
    make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    body = client.get("/sales/customers", query_string={"q": typed}).get_data(as_text=True)
    assert "上海华兴精密机械有限公司" not in body


def test_a_pinyin_search_stays_within_what_the_user_may_see(app, client, staff, make_customer):
    """C6: rep_b's customer answers to the same initials but is not rep's to see."""
    make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    make_customer("上海华新电子有限公司", staff["rep_b"])
    login_fast(client, app, staff[Role.SALES_REP])
    body = client.get("/sales/customers", query_string={"q": "shhx"}).get_data(as_text=True)
    assert "上海华兴精密机械有限公司" in body and "上海华新电子有限公司" not in body


def test_the_service_desk_looks_a_caller_up_by_initials(app, client, staff, make_customer):
    make_customer("上海华兴精密机械有限公司", staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SERVICE_DESK])
    body = client.get("/service/customer-lookup", query_string={"q": "shhx"}).get_data(
        as_text=True)
    assert "上海华兴精密机械有限公司" in body


def test_the_customer_list_sorts_a_to_z_by_pinyin_across_pages(app, client, staff,
                                                               make_customer):
    """By name: pinyin order, on the first page and through the ?after= cursor of the next."""
    app.config["PAGE_SIZE"] = 4
    for name in sorted(NAMES_BY_PINYIN, reverse=True):  # inserted out of order
        make_customer(name, staff[Role.SALES_REP])
    login_fast(client, app, staff[Role.SALES_REP])
    first = client.get("/sales/customers", query_string={"sort": "name"}).get_data(
        as_text=True)
    cursor = re.search(r'href="([^"]*after=[^"]*)"', first)
    assert cursor, "the first page links to the next by cursor"
    second = client.get(cursor.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _rows(first) + _rows(second) == NAMES_BY_PINYIN
    assert sorted(NAMES_BY_PINYIN) != NAMES_BY_PINYIN  # code-point order would differ


def test_staff_pickers_sort_by_pinyin(app, client, staff, make_user):
    """The manager's rep filter lists reps A→Z by pinyin (张 after 王 after 李)."""
    with app.app_context():
        for user_id, name in ((staff[Role.SALES_REP].id, "张伟"), (staff["rep_b"].id, "李娜"),
                              (make_user("wang", Role.SALES_REP).id, "王芳")):
            db.session.get(User, user_id).display_name = name
        db.session.commit()
    login_fast(client, app, staff[Role.SALES_MANAGER])
    body = client.get("/sales/customers").get_data(as_text=True)
    positions = [body.find(f">{name}<") for name in ("李娜", "王芳", "张伟")]
    assert -1 not in positions and positions == sorted(positions), positions
