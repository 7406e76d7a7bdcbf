# A plain WSGI app for gunicorn: the unmodified, non-Java server baton redeploys in the tests.
import os


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    read = len(environ["wsgi.input"].read(length)) if length else 0
    body = ("generation %s pid %d read %d\n" % (os.environ.get("BATON_GENERATION", "0"), os.getpid(), read)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
