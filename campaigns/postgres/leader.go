package postgres

import (
	"context"
	"fmt"
	"sync"
)

// leaderLockSQL takes the advisory lock that only the active scheduler holds (per schema, so that tests
// in their own schemas each have their own).
const leaderLockSQL = `SELECT pg_try_advisory_lock(hashtext('dispatch.scheduler.' || current_schema()))`

// AcquireLeadership tries to take the scheduler's advisory lock on a connection of its own. held is
// false when another scheduler has it. The lock lasts until release is called or the connection
// ends, so a scheduler that dies hands over to the next one at once.
func (s *Store) AcquireLeadership(ctx context.Context) (held bool, release func(), err error) {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return false, nil, fmt.Errorf("leadership: %w", err)
	}
	if err := conn.GetContext(ctx, &held, leaderLockSQL); err != nil {
		conn.Close()
		return false, nil, fmt.Errorf("leadership: %w", err)
	}
	if !held {
		conn.Close()
		return false, nil, nil
	}
	var once sync.Once
	return true, func() {
		once.Do(func() {
			conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock_all()`)
			conn.Close()
		})
	}, nil
}
