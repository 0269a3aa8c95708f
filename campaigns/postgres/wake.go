package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// wakeChannel is the channel migration 0013's triggers notify when a campaign's status or next run,
// or a run's status, changes; the payload is the schema's name.
const wakeChannel = "dispatch_scheduler"

// ListenForWork listens, on a connection of its own to the database at url (the URL the store was
// opened with), for the changes the scheduler acts on: a campaign scheduled, paused, resumed,
// cancelled, a run started or finished (migration 0013). Each sends on the returned channel,
// several at once coalescing into one. A lost connection is made again (lib/pq's Listener, within
// 100 ms to 10 s) and also sends, since a change may have gone unheard meanwhile. It stops when
// ctx ends. It fails only when the store cannot say its schema; a listener that cannot connect
// keeps trying in the background, and meanwhile nothing is sent (the scheduler's timer serves).
func (s *Store) ListenForWork(ctx context.Context, url string, log *slog.Logger) (<-chan struct{}, error) {
	var schema string
	if err := s.db.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
		return nil, fmt.Errorf("listen for work: %w", err)
	}
	events := func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected:
			log.Warn("scheduler: notifications lost their connection; passes go on by the timer", "err", err)
		case pq.ListenerEventReconnected:
			log.Info("scheduler: notifications connected again")
		case pq.ListenerEventConnectionAttemptFailed:
			log.Debug("scheduler: notifications cannot connect", "err", err)
		}
	}
	l := pq.NewListener(url, 100*time.Millisecond, 10*time.Second, events)
	wake := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		l.Close() // also ends a Listen still waiting for its connection
	}()
	go func() {
		// Listen waits for the connection; it fails only for a bad channel name or a closed listener.
		if err := l.Listen(wakeChannel); err != nil {
			if ctx.Err() == nil {
				log.Error("scheduler: cannot listen for notifications; passes go on by the timer", "err", err)
			}
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-l.Notify:
				// nil: the connection was made again, and what happened meanwhile is unknown.
				if n != nil && n.Extra != schema {
					continue // another installation's schema in the same database
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	return wake, nil
}
