# A bad version for the canary scenario: healthy to every probe (baton's and HAProxy's, on
# /healthz), but a 500 to every real request. Only a comparison of live traffic catches it.
def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
        return [b"ok\n"]
    body = b"this version is broken\n"
    start_response("500 Internal Server Error", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
