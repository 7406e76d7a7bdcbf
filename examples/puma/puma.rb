# Puma under baton, configured as for systemd socket activation: the listeners come from
# LISTEN_FDS and nothing else is bound. READY=1 on NOTIFY_SOCKET is Puma's own once booted (it needs
# the sd_notify gem: Debian's ruby-sd-notify). SIGTERM is Puma's graceful stop.
bind_to_activated_sockets 'only'
# No reactor: a thread takes each connection from accept to its last answer. With the reactor, a
# connection accepted just before the graceful stop whose request has not arrived yet is closed
# unanswered when the stop empties the reactor (Puma 5.6's reactor_wakeup: nothing read, so it
# "can close"), and its client sees a reset: 1 of 36,172 requests in a CI run. The price: Puma 5.6
# without its reactor answers one request per connection (no keep-alive), so keep threads for
# every connection in flight.
queue_requests false
threads 16, 16
raise_exception_on_sigterm false
