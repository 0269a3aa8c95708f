package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/jacksmood/dispatch/campaigns"
)

// selection returns the statement made of the selection's WITH block (queries/selection.sql, query
// selection, slots $1 to $11) and the named statement that follows it: select-slice, which records
// what the selection chose, or audience-slice, which counts it.
func (s *Store) selection(tail string) string {
	return s.q("selection") + "\n" + s.q(tail)
}

// selectionSlots is how many of selectionArgs' slots the selection's WITH block uses; the slots
// after it are select-slice's own.
const selectionSlots = 11

const (
	// audienceConns is how many parts of the register Audience counts at once, each on its own
	// connection. Measured with 1,000,000 members on this project's 2-core machine, a newsletter
	// on every channel: in 1 part it took 2.0 s of PostgreSQL's CPU, in 2 at once 2.4 s (1.2 s
	// of wall time), in 4 at once 3.2 s.
	audienceConns = 2
	// audiencePartSize is the most members one part holds, about: its statement is planned for
	// up to that many (audience-settings).
	audiencePartSize = 500_000
)

// Audience counts who the campaign would reach if it were selected now (campaigns.Audience), with
// the scheduler's own selection (the selection block of queries/selection.sql) followed by a count
// instead of an insert. The register is cut into parts of about as many members, up to
// audiencePartSize each, and audienceConns parts are counted at once, each in one statement on its
// own connection. Each part is counted as of its own statement, as the scheduler selects each
// slice in its own transaction. An unknown campaign is ErrNotFound.
func (s *Store) Audience(ctx context.Context, id int64) (campaigns.Audience, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return campaigns.Audience{}, err
	}
	a, err := s.audience(ctx, &c.Spec, time.Now())
	a.CampaignID = id
	if err != nil {
		return a, fmt.Errorf("audience of campaign %d: %w", id, err)
	}
	return a, nil
}

// audienceCount is one row of audience-slice.
type audienceCount struct {
	Ord     int64          `db:"ord"`
	Channel string         `db:"channel"`
	Reason  sql.NullString `db:"reason"`
	N       int64          `db:"n"`
}

// audience counts the audience of spec as of now.
func (s *Store) audience(ctx context.Context, spec *campaigns.Spec, now time.Time) (campaigns.Audience, error) {
	a := campaigns.Audience{Channels: make(map[campaigns.Channel]campaigns.ChannelAudience, len(spec.Channels))}
	for _, ch := range spec.Channels {
		a.Channels[ch] = campaigns.ChannelAudience{}
	}
	parts, err := s.registerParts(ctx)
	if err != nil {
		return a, err
	}
	query := s.selection("audience-slice")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	todo := make(chan [2]int64, len(parts))
	for _, p := range parts {
		todo <- p
	}
	close(todo)
	for range min(audienceConns, len(parts)) {
		wg.Go(func() {
			for p := range todo {
				var rows []audienceCount
				err := ctx.Err()
				if err == nil {
					err = s.inReadOnlyTx(ctx, func(tx *sqlx.Tx) error {
						if _, err := tx.ExecContext(ctx, s.q("audience-settings")); err != nil {
							return err
						}
						// Run 0: no run's deliveries are left out of the frequency cap.
						args := selectionArgs(0, spec, now, campaigns.SelectOptions{}, p[0], p[1], 0)[:selectionSlots]
						return tx.SelectContext(ctx, &rows, query, args...)
					})
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("members after %d up to %d: %w", p[0], p[1], err)
					cancel()
				}
				if err == nil {
					addAudience(&a, rows)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return a, firstErr
}

// registerParts cuts the register's member ids into ranges (after, upto] of about as many members
// each: at least audienceConns, and enough that none holds much more than audiencePartSize. The
// cuts come from the planner's statistics of members (the row count, and the histogram of
// members.id, an equal-frequency sample), so they cost nothing to find; without statistics the ids
// between the smallest and the largest are cut evenly. Only the balance of the parts rests on
// them: the first part starts before every id and the last ends after every id, so together they
// hold every member, whatever the statistics say.
func (s *Store) registerParts(ctx context.Context) ([][2]int64, error) {
	var st struct {
		Members int64         `db:"members"`
		Bounds  pq.Int64Array `db:"bounds"`
	}
	if err := s.db.GetContext(ctx, &st, s.q("member-id-histogram")); err != nil {
		return nil, fmt.Errorf("member id histogram: %w", err)
	}
	if len(st.Bounds) < 2 {
		var lo, hi sql.NullInt64
		if err := s.db.QueryRowxContext(ctx, s.q("member-id-range")).Scan(&lo, &hi); err != nil {
			return nil, fmt.Errorf("member id range: %w", err)
		}
		st.Bounds = pq.Int64Array{lo.Int64, hi.Int64}
	}
	n := max(audienceConns, int((st.Members+audiencePartSize-1)/audiencePartSize))
	cuts := make([]int64, 0, n+1)
	cuts = append(cuts, math.MinInt64)
	last := len(st.Bounds) - 1
	for k := 1; k < n; k++ {
		// Between the two bounds around the k-th n-quantile, in proportion.
		pos := float64(last) * float64(k) / float64(n)
		i := int(pos)
		c := st.Bounds[i]
		if i < last {
			c += int64(float64(st.Bounds[i+1]-st.Bounds[i]) * (pos - float64(i)))
		}
		if c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	cuts = append(cuts, math.MaxInt64)
	parts := make([][2]int64, len(cuts)-1)
	for i := range parts {
		parts[i] = [2]int64{cuts[i], cuts[i+1]}
	}
	return parts, nil
}

// inReadOnlyTx runs fn in a read-only transaction, which it then ends.
func (s *Store) inReadOnlyTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// addAudience adds one slice's counts to the audience: ord 0 counts the slice's members; each
// member of the segment has a row on the first channel (ord 1).
func addAudience(a *campaigns.Audience, rows []audienceCount) {
	for _, r := range rows {
		if r.Ord == 0 {
			a.Members += r.N
			continue
		}
		if r.Ord == 1 {
			a.Segment += r.N
		}
		ch := campaigns.Channel(r.Channel)
		ca := a.Channels[ch]
		if !r.Reason.Valid {
			ca.Reachable += r.N
		} else {
			if ca.Skipped == nil {
				ca.Skipped = map[campaigns.SkipReason]int64{}
			}
			ca.Skipped[campaigns.SkipReason(r.Reason.String)] += r.N
		}
		a.Channels[ch] = ca
	}
}

// selectionSkip is the status of run-counts' rows that count the run's skips at selection
// (run_skips): those members have no delivery.
const selectionSkip = "selection"

// runCount is one row of run-counts and latest-run-counts: how many of a run's deliveries on a
// channel are in a state (with the reason for skipped), or how many members the selection left out
// for a reason (status selectionSkip).
type runCount struct {
	Channel campaigns.Channel `db:"channel"`
	Status  string            `db:"status"`
	Reason  string            `db:"reason"`
	N       int64             `db:"n"`
}

// addRunCount adds one row of run-counts to the stats of its run: every row adds to the channel's
// total; skips, at selection or at send time, add to skipped and to their reason.
func addRunCount(st *campaigns.Stats, c runCount) {
	cs := st.Channels[c.Channel]
	switch campaigns.DeliveryStatus(c.Status) {
	case campaigns.DeliveryQueued:
		cs.Queued += c.N
	case campaigns.DeliverySent:
		cs.Sent += c.N
	case campaigns.DeliveryFailed:
		cs.Failed += c.N
	case campaigns.DeliveryCancelled:
		cs.Cancel += c.N
	case campaigns.DeliverySkipped, selectionSkip:
		cs.Skipped += c.N
		if cs.Reasons == nil {
			cs.Reasons = map[campaigns.SkipReason]int64{}
		}
		cs.Reasons[campaigns.SkipReason(c.Reason)] += c.N
	}
	cs.Total += c.N
	st.Channels[c.Channel] = cs
}

// runStats returns the counts of one run, read from delivery_counts and run_skips.
func (s *Store) runStats(ctx context.Context, st *campaigns.Stats) error {
	var rows []runCount
	if err := s.db.SelectContext(ctx, &rows, s.q("run-counts"), st.RunID); err != nil {
		return fmt.Errorf("counts of run %d: %w", st.RunID, err)
	}
	for _, r := range rows {
		addRunCount(st, r)
	}
	return nil
}

// LatestStats returns the progress of every campaign's latest run, by campaign id, in one
// statement: what CampaignStats(ctx, id, 0) returns for each campaign, for the campaign list. A
// campaign that has not run has its status, RunID 0 and its channels at zero.
func (s *Store) LatestStats(ctx context.Context) (map[int64]campaigns.Stats, error) {
	var rows []struct {
		CampaignID int64                    `db:"campaign_id"`
		Status     campaigns.CampaignStatus `db:"campaign_status"`
		RunID      int64                    `db:"run_id"`
		Channel    sql.NullString           `db:"channel"`
		Kind       string                   `db:"status"`
		Reason     string                   `db:"reason"`
		N          int64                    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.q("latest-run-counts")); err != nil {
		return nil, fmt.Errorf("progress of the campaigns: %w", err)
	}
	out := map[int64]campaigns.Stats{}
	for _, r := range rows {
		st, ok := out[r.CampaignID]
		if !ok {
			st = campaigns.Stats{ID: r.CampaignID, Status: r.Status, RunID: r.RunID, Channels: map[campaigns.Channel]campaigns.ChannelStats{}}
			out[r.CampaignID] = st
		}
		switch {
		case !r.Channel.Valid:
		case r.Kind == "":
			// One of the campaign's channels, present even when nothing was counted on it.
			if _, ok := st.Channels[campaigns.Channel(r.Channel.String)]; !ok {
				st.Channels[campaigns.Channel(r.Channel.String)] = campaigns.ChannelStats{}
			}
		default:
			addRunCount(&st, runCount{Channel: campaigns.Channel(r.Channel.String), Status: r.Kind, Reason: r.Reason, N: r.N})
		}
	}
	return out, nil
}
