"""The key explorer ships with the API: GET / is the page and GET /static/{name} its files, from a fixed list,
each with its content type and a Content-Security-Policy that keeps every byte on our own origin."""

import re

import pytest

from chalicelib.api import static_files

ORIGIN = "http://127.0.0.1:9"


def test_the_page_is_html_that_loads_only_our_own_files(api):
    response = api.http.get("/")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = response.body.decode()
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert referenced, page
    for target in referenced:
        assert not re.match(r"^[a-z]+://|^//", target), f"the page loads {target} from elsewhere"


@pytest.mark.parametrize("name, media_type", [("explorer.js", "text/javascript"), ("explorer.css", "text/css")])
def test_each_listed_file_is_served_with_its_content_type(api, name, media_type):
    response = api.http.get(f"/static/{name}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert response.body == (static_files.STATIC_DIR / name).read_bytes()


@pytest.mark.parametrize("name", ["index.html", "..%2F..%2Fapp.py", "explorer.mjs", "static_files.py"])
def test_a_file_outside_the_list_is_a_404_problem(api, name):
    response = api.http.get(f"/static/{name}")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_the_scripts_import_nothing_from_outside_the_page():
    for name in ("explorer.js",):
        source = (static_files.STATIC_DIR / name).read_text()
        for target in re.findall(r"""(?:from|import)\s*\(?\s*['"]([^'"]+)['"]""", source):
            assert target.startswith("./"), f"{name} imports {target}"


def test_the_page_without_a_trailing_slash_is_sent_to_the_slashed_url():
    """API Gateway serves the stage root both as /api and /api/; the page's relative file names need the slash."""
    assert static_files.slash_redirect("/api") == "/api/"
    assert static_files.slash_redirect("/api/") is None
    assert static_files.slash_redirect("/") is None
