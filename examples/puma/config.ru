# The smallest Rack app, served by Puma (examples/puma/puma.rb).
#
# Puma's graceful stop (SIGTERM) closes at once every kept-alive connection idle at that instant,
# and a busy client's next request is often already on its way on one of them: that client sees
# its connection reset. So SIGTERM first makes every answer say "Connection: close" for a moment,
# which ends each busy connection after a complete response, and then runs Puma's own stop, which
# finds idle only connections whose clients have stopped sending. Puma traps SIGTERM before it
# loads this file, so its handler is the one Signal.trap returns.
CLOSE_KEPT_ALIVE_FOR = 0.5
draining = false
puma_stop = Signal.trap('TERM') do
  draining = true
  Thread.new do
    sleep CLOSE_KEPT_ALIVE_FOR
    puma_stop.call
  end
end

run lambda { |env|
  body = "puma generation #{ENV.fetch('BATON_GENERATION', '0')} pid #{Process.pid}\n"
  headers = { 'Content-Type' => 'text/plain', 'Content-Length' => body.bytesize.to_s }
  headers['Connection'] = 'close' if draining
  [200, headers, [body]]
}
