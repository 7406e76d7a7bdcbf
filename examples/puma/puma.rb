# Puma under baton, configured as for systemd socket activation: the listeners come from
# LISTEN_FDS and nothing else is bound. READY=1 on NOTIFY_SOCKET is Puma's own once booted (it needs
# the sd_notify gem: Debian's ruby-sd-notify). SIGTERM is Puma's graceful stop.
bind_to_activated_sockets 'only'
threads 4, 4
raise_exception_on_sigterm false
