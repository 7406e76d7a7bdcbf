// The smallest Go HTTP server run the way systemd socket activation documents it, with
// github.com/coreos/go-systemd: activation.Listeners() takes the inherited listeners
// (LISTEN_FDS from fd 3), daemon.SdNotify says READY=1 once every one is served, and SIGTERM is
// drained by http.Server.Shutdown (stop accepting, finish in-flight requests, close idle
// kept-alive connections).
//
// Shutdown alone loses requests under keep-alive load: it closes every connection idle at that
// instant, and a busy client's next request is often already on its way on one of them, so that
// client sees its connection reset. Hence the step before it: for a moment every answer says
// "Connection: close", so each busy connection ends after a complete response; only connections
// whose clients have stopped sending are left for Shutdown to close.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/activation"
	"github.com/coreos/go-systemd/daemon"
)

// How long busy kept-alive connections are given to take their "Connection: close" before Shutdown
// closes the idle rest: longer than a busy client's pause between two requests.
const closeKeptAliveFor = 500 * time.Millisecond

func main() {
	listeners, err := activation.Listeners()
	if err != nil || len(listeners) == 0 {
		log.Fatalf("no listeners from socket activation: %v", err)
	}
	generation := os.Getenv("BATON_GENERATION")
	var draining atomic.Bool
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		fmt.Fprintf(w, "go generation %s pid %d\n", generation, os.Getpid())
	})

	var servers []*http.Server
	var serving sync.WaitGroup
	for _, l := range listeners {
		server := &http.Server{Handler: handler}
		servers = append(servers, server)
		serving.Add(1)
		go func(l net.Listener) {
			defer serving.Done()
			if err := server.Serve(l); err != http.ErrServerClosed {
				log.Printf("serve: %v", err)
			}
		}(l)
	}
	if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		log.Printf("sd_notify: %v", err)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	draining.Store(true)
	time.Sleep(closeKeptAliveFor)
	var drained sync.WaitGroup
	for _, server := range servers {
		drained.Add(1)
		go func(server *http.Server) {
			defer drained.Done()
			server.Shutdown(context.Background())
		}(server)
	}
	drained.Wait()
	serving.Wait()
}
