# The smallest WSGI app, served by uWSGI (examples/uwsgi/uwsgi.ini).
import os


def application(environ, start_response):
    body = ("uwsgi generation %s pid %d\n" % (os.environ.get("BATON_GENERATION", "0"), os.getpid())).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
