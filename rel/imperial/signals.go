package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"ergo.services/ergo/gen"

	emperorapp "imperial/apps/emperor"
)

// vassalStopTimeout bounds the emperor's Ragnarok at shutdown: longer than a
// vassal's curse tolerance (30 s), so every vassal gets its stop byte and, if
// it hangs, its group kill before imperial exits.
const vassalStopTimeout = 35 * time.Second

// handleSignals replaces ergo's own SIGINT/SIGTERM handler: SIGINT, SIGTERM and
// SIGQUIT stop the vassals gracefully (when an emperor runs), then the node;
// SIGHUP reloads every vassal, as it does to uWSGI's emperor. It returns when
// the node has been told to stop by a signal or n.Wait returns.
func handleSignals(n gen.Node, emperor bool, log *slog.Logger) {
	n.SetCTRLC(false)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP)
	stopped := make(chan struct{})
	go func() {
		n.Wait()
		close(stopped)
	}()
	defer signal.Stop(sigs)
	for {
		select {
		case <-stopped:
			return
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if emperor {
					count, err := emperorapp.ReloadVassals(n)
					log.Info("SIGHUP: reloading vassals", "count", count, "err", err)
				}
				continue
			}
			log.Info("stopping", "signal", sig.String())
			if emperor {
				if count, err := emperorapp.StopVassals(n, vassalStopTimeout); err != nil {
					log.Warn("vassals did not all stop", "count", count, "err", err)
				}
			}
			n.Stop()
			<-stopped
			return
		}
	}
}
