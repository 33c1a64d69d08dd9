"""A loopback stand-in for the city's government website feed (RSS 2.0 and JSON), as
the website's information-disclosure platform publishes it. Docs:
docs/publishing.md#import-connector. Serves whatever ``items`` holds at the moment."""

from __future__ import annotations

import json
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


class FeedFake:
    def __init__(self) -> None:
        self.items: list[dict] = []
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests += 1
                if self.path.startswith("/rss"):
                    body, kind = fake.rss(), "application/rss+xml; charset=utf-8"
                elif self.path.startswith("/api/items.json"):
                    body, kind = fake.json(), "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FeedFake:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def rss(self) -> bytes:
        entries = "".join(
            "<item>"
            f"<title>{escape(i['title'])}</title><link>{escape(i['url'])}</link>"
            f"<guid>{escape(i['id'])}</guid>"
            f"<description>{escape(i['content'])}</description>"
            f"<pubDate>{format_datetime(i['published'])}</pubDate>"
            "</item>"
            for i in self.items
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>新城市人民政府</title>{entries}</channel></rss>"
        ).encode()

    def json(self) -> bytes:
        return json.dumps(
            {"items": [{**i, "published": i["published"].isoformat()} for i in self.items]},
            ensure_ascii=False,
        ).encode()
