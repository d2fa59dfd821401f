from conftest import login


def test_login_page_renders_in_chinese(client):
    response = client.get("/auth/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN"' in page and "用户名" in page and "密码" in page


def test_login_and_home(client, staff):
    response = login(client, "rep")
    assert response.status_code == 302, response.get_data(as_text=True)
    home = client.get("/")
    assert home.status_code == 200
