"""The baseline: a bare Flask page rendering a 50-row table, nothing else."""
from flask import Flask, render_template_string

app = Flask(__name__)
ROWS = [{"name": f"上海华东精密机械{i:03d}有限公司", "region": "上海", "owner": "张伟",
         "sales": f"{i * 1234.5:,.2f}"} for i in range(50)]
PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>bare</title></head>
<body><table><thead><tr><th>公司名称</th><th>地区</th><th>负责人</th><th>交易额</th></tr></thead>
<tbody>{% for r in rows %}<tr><td><a href="/c/{{ loop.index }}">{{ r.name }}</a></td>
<td>{{ r.region }}</td><td>{{ r.owner }}</td><td>{{ r.sales }}</td></tr>{% endfor %}</tbody>
</table></body></html>"""


@app.route("/")
def table():
    return render_template_string(PAGE, rows=ROWS)
