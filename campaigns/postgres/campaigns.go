package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/jacksmood/dispatch/campaigns"
)

// campaignRow is a campaigns row with the spec as JSON text.
type campaignRow struct {
	campaigns.Campaign
	SpecJSON string `db:"spec"`
}

func (r *campaignRow) decode() (campaigns.Campaign, error) {
	c := r.Campaign
	if err := json.Unmarshal([]byte(r.SpecJSON), &c.Spec); err != nil {
		return c, fmt.Errorf("campaign %d: stored spec: %w", c.ID, err)
	}
	return c, nil
}

// CreateCampaign stores a validated spec as a draft campaign created by a.Actor, and writes the audit
// entry a (with the new campaign's id) in the same transaction.
func (s *Store) CreateCampaign(ctx context.Context, spec *campaigns.Spec, a campaigns.Audit) (campaigns.Campaign, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return campaigns.Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	var row campaignRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &row, s.q("insert-campaign"), spec.Name, spec.Kind, b, a.Actor); err != nil {
			return fmt.Errorf("create campaign: %w", err)
		}
		return s.audit(ctx, tx, a.With("campaign_id", row.ID))
	})
	if err != nil {
		return campaigns.Campaign{}, err
	}
	return row.decode()
}

// UpdateCampaign replaces a draft campaign's spec and writes the audit entry a in the same
// transaction. A campaign that is no longer a draft is ErrConflict naming its state; an unknown one
// ErrNotFound.
func (s *Store) UpdateCampaign(ctx context.Context, id int64, spec *campaigns.Spec, a campaigns.Audit) (campaigns.Campaign, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return campaigns.Campaign{}, fmt.Errorf("update campaign %d: %w", id, err)
	}
	var row campaignRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &row, s.q("update-campaign"), id, spec.Name, spec.Kind, b)
		if errors.Is(err, sql.ErrNoRows) {
			var status string
			if err := tx.GetContext(ctx, &status, `SELECT status FROM campaigns WHERE id = $1`, id); errors.Is(err, sql.ErrNoRows) {
				return campaigns.Errorf(campaigns.ErrNotFound, "no campaign %d", id)
			}
			return campaigns.Errorf(campaigns.ErrConflict, "campaign %d is %s: only a draft can be edited", id, status)
		}
		if err != nil {
			return fmt.Errorf("update campaign %d: %w", id, err)
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return campaigns.Campaign{}, err
	}
	return row.decode()
}

// CampaignRuns returns every run of the campaign, newest first, with what each sent.
func (s *Store) CampaignRuns(ctx context.Context, id int64) ([]campaigns.RunSummary, error) {
	var out []campaigns.RunSummary
	if err := s.db.SelectContext(ctx, &out, s.q("campaign-runs"), id); err != nil {
		return nil, fmt.Errorf("runs of campaign %d: %w", id, err)
	}
	return out, nil
}

// MemberReach says whether the member may be reached on the channel now ("" when they may), by the
// same rule the selection and the workers' re-check apply.
func (s *Store) MemberReach(ctx context.Context, memberID int64, ch campaigns.Channel) (campaigns.SkipReason, error) {
	var reason sql.NullString
	err := s.db.GetContext(ctx, &reason, s.q("member-reach"), memberID, ch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", campaigns.Errorf(campaigns.ErrNotFound, "no member with id %d", memberID)
	}
	if err != nil {
		return "", fmt.Errorf("reach of member %d on %s: %w", memberID, ch, err)
	}
	return campaigns.SkipReason(reason.String), nil
}

// MembersReached counts the members of the register who were sent the campaign, on any channel and
// in any of its runs.
func (s *Store) MembersReached(ctx context.Context, id int64) (int64, error) {
	var n int64
	if err := s.db.GetContext(ctx, &n, s.q("campaign-members-reached"), id); err != nil {
		return 0, fmt.Errorf("members reached by campaign %d: %w", id, err)
	}
	return n, nil
}

// Campaign returns the campaign, or ErrNotFound.
func (s *Store) Campaign(ctx context.Context, id int64) (campaigns.Campaign, error) {
	var row campaignRow
	err := s.db.GetContext(ctx, &row, s.q("campaign-by-id"), id)
	if errors.Is(err, sql.ErrNoRows) {
		return campaigns.Campaign{}, campaigns.Errorf(campaigns.ErrNotFound, "no campaign %d", id)
	}
	if err != nil {
		return campaigns.Campaign{}, fmt.Errorf("campaign %d: %w", id, err)
	}
	return row.decode()
}

// Campaigns returns every campaign, oldest first.
func (s *Store) Campaigns(ctx context.Context) ([]campaigns.Campaign, error) {
	var rows []campaignRow
	if err := s.db.SelectContext(ctx, &rows, s.q("list-campaigns")); err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out := make([]campaigns.Campaign, 0, len(rows))
	for i := range rows {
		c, err := rows[i].decode()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// transition runs the named statements for a campaign state change in one transaction. The first
// must return the campaign's id when the change is allowed; otherwise the answer is ErrNotFound for
// an unknown campaign and ErrConflict naming the current state. The audit entry a is written in the
// same transaction.
func (s *Store) transition(ctx context.Context, id int64, verb string, a campaigns.Audit, args []any, names ...string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var got int64
		err := tx.GetContext(ctx, &got, s.q(names[0]), append([]any{id}, args...)...)
		if errors.Is(err, sql.ErrNoRows) {
			var status string
			if err := tx.GetContext(ctx, &status, `SELECT status FROM campaigns WHERE id = $1`, id); errors.Is(err, sql.ErrNoRows) {
				return campaigns.Errorf(campaigns.ErrNotFound, "no campaign %d", id)
			}
			return campaigns.Errorf(campaigns.ErrConflict, "campaign %d is %s: it cannot be %s", id, status, verb)
		}
		if err != nil {
			return fmt.Errorf("%s campaign %d: %w", verb, id, err)
		}
		for _, n := range names[1:] {
			if _, err := tx.ExecContext(ctx, s.q(n), id); err != nil {
				return fmt.Errorf("%s campaign %d: %s: %w", verb, id, n, err)
			}
		}
		return s.audit(ctx, tx, a)
	})
}

// ScheduleCampaign sets the campaign's next run time and makes it scheduled. A draft, scheduled or
// finished campaign can be scheduled; others are ErrConflict.
func (s *Store) ScheduleCampaign(ctx context.Context, id int64, at time.Time, a campaigns.Audit) error {
	return s.transition(ctx, id, "scheduled", a, []any{at}, "schedule-campaign")
}

// PauseCampaign stops the campaign's sending: workers see the paused run and give their batches back.
func (s *Store) PauseCampaign(ctx context.Context, id int64, a campaigns.Audit) error {
	return s.transition(ctx, id, "paused", a, nil, "pause-campaign", "pause-runs")
}

// ResumeCampaign continues a paused campaign; the scheduler enqueues what is left.
func (s *Store) ResumeCampaign(ctx context.Context, id int64, a campaigns.Audit) error {
	return s.transition(ctx, id, "resumed", a, nil, "resume-campaign", "resume-runs", "resume-batches")
}

// CancelCampaign stops the campaign for good: what was not sent is marked cancelled.
func (s *Store) CancelCampaign(ctx context.Context, id int64, a campaigns.Audit) error {
	return s.transition(ctx, id, "cancelled", a, nil, "cancel-campaign", "cancel-deliveries", "cancel-batches", "cancel-runs")
}

// StartDueRuns creates a run for every campaign whose next run time has come, and moves the
// campaign's next run time on with next. Campaigns are locked with SKIP LOCKED and runs are unique
// per (campaign, scheduled time), so concurrent schedulers never start the same run twice.
// It returns the new runs' ids.
func (s *Store) StartDueRuns(ctx context.Context, now time.Time, next campaigns.NextRunFunc) ([]int64, error) {
	var runs []int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var rows []campaignRow
		if err := tx.SelectContext(ctx, &rows, s.q("due-campaigns"), now); err != nil {
			return fmt.Errorf("due campaigns: %w", err)
		}
		for i := range rows {
			c, err := rows[i].decode()
			if err != nil {
				return err
			}
			at := *c.NextRunAt
			var id int64
			switch err := tx.GetContext(ctx, &id, s.q("insert-run"), c.ID, at); {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return fmt.Errorf("start run of campaign %d: %w", c.ID, err)
			default:
				runs = append(runs, id)
			}
			n, err := next(c.Spec, maxTime(at, now))
			if err != nil {
				return fmt.Errorf("campaign %d: next run: %w", c.ID, err)
			}
			if _, err := tx.ExecContext(ctx, s.q("advance-campaign"), c.ID, n); err != nil {
				return fmt.Errorf("campaign %d: %w", c.ID, err)
			}
		}
		return nil
	})
	return runs, err
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// RunsToSelect returns the runs whose members have not been selected yet.
func (s *Store) RunsToSelect(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.q("runs-to-select"))
	return ids, err
}

// SelectRun selects the next slice of the run's members: those of the campaign's segment who may be
// reached on each channel (the member_reach view, the frequency cap, the strategy). It records one
// delivery per member and channel with the consent event it rests on, counts those left out by
// reason, and groups the new deliveries into batches, all in one transaction of set-based
// statements: nothing is loaded into this process. When no member is left the run becomes running
// (Done). Call it until Done; the batches of each slice can be enqueued at once. A run selected
// by another scheduler, or already selected, gives Selected false. Selecting a slice twice adds nothing.
func (s *Store) SelectRun(ctx context.Context, runID int64, opt campaigns.SelectOptions) (campaigns.SelectResult, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 500
	}
	if opt.PrintBatchSize <= 0 || opt.PrintBatchSize > 5000 {
		opt.PrintBatchSize = 5000
	}
	if opt.SliceSize <= 0 {
		opt.SliceSize = 50000
	}
	var res campaigns.SelectResult
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var run struct {
			ID           int64     `db:"id"`
			CampaignID   int64     `db:"campaign_id"`
			ScheduledFor time.Time `db:"scheduled_for"`
			SelectedUpto int64     `db:"selected_upto"`
			Slices       int       `db:"slices"`
			Spec         string    `db:"spec"`
		}
		err := tx.GetContext(ctx, &run, s.q("lock-run-for-selection"), runID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("select run %d: %w", runID, err)
		}
		res.Selected = true
		// The first slice is small, so that the first messages go out within a second.
		size := opt.SliceSize
		if run.Slices == 0 {
			size = min(size, 1000)
		}
		var upto sql.NullInt64
		if err := tx.GetContext(ctx, &upto, s.q("next-slice"), run.SelectedUpto, size); err != nil {
			return fmt.Errorf("select run %d: %w", runID, err)
		}
		if !upto.Valid {
			res.Done = true
			_, err := tx.ExecContext(ctx, s.q("mark-run-selected"), runID)
			return err
		}
		var spec campaigns.Spec
		if err := json.Unmarshal([]byte(run.Spec), &spec); err != nil {
			return fmt.Errorf("select run %d: spec: %w", runID, err)
		}
		batchBase := run.Slices * batchesPerSlice
		// Not through s.stmt: the query relies on being planned with its actual parameter values.
		args := selectionArgs(runID, &spec, time.Now(), opt, run.SelectedUpto, upto.Int64, batchBase)
		if err := tx.GetContext(ctx, &res.Deliveries, s.selection("select-slice"), args...); err != nil {
			return fmt.Errorf("select run %d: %w", runID, err)
		}
		if _, err := tx.ExecContext(ctx, s.q("insert-batches"), runID, batchBase); err != nil {
			return fmt.Errorf("select run %d: batches: %w", runID, err)
		}
		if _, err := tx.ExecContext(ctx, s.q("mark-slice-selected"), runID, upto.Int64); err != nil {
			return fmt.Errorf("select run %d: %w", runID, err)
		}
		return nil
	})
	if err != nil || !res.Done {
		return res, err
	}
	skips, err := s.channelCounts(ctx, "run-skip-counts", runID)
	if err != nil {
		return res, err
	}
	res.Skipped = make(map[campaigns.Channel]map[campaigns.SkipReason]int64)
	for _, k := range skips {
		if res.Skipped[k.Channel] == nil {
			res.Skipped[k.Channel] = map[campaigns.SkipReason]int64{}
		}
		res.Skipped[k.Channel][campaigns.SkipReason(k.Key)] = k.N
	}
	return res, nil
}

// batchesPerSlice spaces the batch numbers of successive slices: slice k numbers its batches from
// k*batchesPerSlice, so a slice of up to a million deliveries per channel never collides.
const batchesPerSlice = 1_000_000

// selectionArgs gives the bind parameters of the select-slice query (queries/selection.sql: the
// selection's slots, $1 to $11, then select-slice's), in the order of its slots; audience-slice
// takes the first selectionSlots of them. Every value a marketer wrote reaches PostgreSQL as one of
// them; the SQL text is fixed. A segment condition that is not given is NULL, which the query reads as "any".
func selectionArgs(runID int64, spec *campaigns.Spec, now time.Time, opt campaigns.SelectOptions, after, upto int64, batchBase int) []any {
	seg := spec.Segment
	// An absent list must be NULL: an empty array ('{}') would match no member at all.
	var langs, pats any
	if len(seg.Languages) > 0 {
		l := make([]string, len(seg.Languages))
		for i, v := range seg.Languages {
			l[i] = string(v)
		}
		langs = pq.Array(l)
	}
	if len(seg.PostalCodes) > 0 {
		p := make([]string, len(seg.PostalCodes))
		for i, v := range seg.PostalCodes {
			p[i] = strings.TrimSuffix(v, "*")
			if strings.HasSuffix(v, "*") {
				p[i] += "%"
			}
		}
		pats = pq.Array(p)
	}
	var since sql.NullTime
	if seg.PurchasedWithin > 0 {
		since = sql.NullTime{Time: now.Add(-time.Duration(seg.PurchasedWithin)), Valid: true}
	}
	var spend sql.NullInt64
	if seg.MinTotalSpend != nil {
		spend = sql.NullInt64{Int64: int64(*seg.MinTotalSpend), Valid: true}
	}
	channels := make([]string, len(spec.Channels))
	for i, c := range spec.Channels {
		channels[i] = string(c)
	}
	capMax, capSince := 0, now
	if fc := spec.FrequencyCap; fc != nil {
		capMax, capSince = fc.Max, now.Add(-time.Duration(fc.Per))
	}
	return []any{
		runID,                                    // $1
		after,                                    // $2
		upto,                                     // $3
		langs,                                    // $4
		pats,                                     // $5
		since,                                    // $6
		spend,                                    // $7
		pq.Array(channels),                       // $8
		capMax,                                   // $9
		capSince,                                 // $10
		spec.Strategy == campaigns.StrategyFirst, // $11
		opt.BatchSize,                            // $12
		opt.PrintBatchSize,                       // $13
		batchBase,                                // $14
	}
}

// BatchesToEnqueue returns up to limit batches of running runs that are not done and either were
// never enqueued or were enqueued before staleBefore and are held by no worker. Batches of the
// channels in waiting are left for later.
func (s *Store) BatchesToEnqueue(ctx context.Context, staleBefore time.Time, limit int, waiting []campaigns.Channel) ([]campaigns.Batch, error) {
	var out []campaigns.Batch
	wait := make([]string, len(waiting))
	for i, c := range waiting {
		wait[i] = string(c)
	}
	if err := s.db.SelectContext(ctx, &out, s.q("batches-to-enqueue"), staleBefore, limit, pq.Array(wait)); err != nil {
		return nil, fmt.Errorf("batches to enqueue: %w", err)
	}
	return out, nil
}

// MarkEnqueued records that the batches are in the queue now; generations gives, per batch, the
// generation of the task created for it, or 0 when its task was found already there.
func (s *Store) MarkEnqueued(ctx context.Context, batches []campaigns.Batch, generations []int) error {
	runs := make([]int64, len(batches))
	chans := make([]string, len(batches))
	nums := make([]int64, len(batches))
	gens := make([]int64, len(batches))
	for i, b := range batches {
		runs[i], chans[i], nums[i], gens[i] = b.RunID, string(b.Channel), int64(b.Batch), int64(generations[i])
	}
	_, err := s.db.ExecContext(ctx, s.q("mark-enqueued"), pq.Array(runs), pq.Array(chans), pq.Array(nums), pq.Array(gens))
	if err != nil {
		return fmt.Errorf("mark %d batches enqueued: %w", len(batches), err)
	}
	return nil
}

// FinishRuns marks finished every running run whose batches are all done, and returns their ids.
func (s *Store) FinishRuns(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, s.q("finish-runs"), 0); err != nil {
		return nil, fmt.Errorf("finish runs: %w", err)
	}
	return ids, nil
}

// CampaignStats reports the campaign's status and one run's deliveries per channel (runID, or the
// latest run when runID is 0): queued, sent, failed, skipped (at selection or at send time) and
// cancelled, with skip reasons. A run that is not the campaign's is ErrNotFound. The counts come
// from delivery_counts (migration 0011), not from the run's deliveries: a few hundred rows, however
// large the run.
func (s *Store) CampaignStats(ctx context.Context, id, runID int64) (campaigns.Stats, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return campaigns.Stats{}, err
	}
	st := campaigns.Stats{ID: id, Status: c.Status, Channels: map[campaigns.Channel]campaigns.ChannelStats{}}
	for _, ch := range c.Spec.Channels {
		st.Channels[ch] = campaigns.ChannelStats{}
	}
	err = s.db.GetContext(ctx, &st.RunID, s.q("campaign-run"), id, runID)
	if errors.Is(err, sql.ErrNoRows) && runID != 0 {
		return st, campaigns.Errorf(campaigns.ErrNotFound, "campaign %d has no run %d", id, runID)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("stats of campaign %d: %w", id, err)
	}
	err = s.runStats(ctx, &st)
	return st, err
}

// channelCount is one row of a per-channel count: by status or by skip reason.
type channelCount struct {
	Channel campaigns.Channel `db:"channel"`
	Key     string            `db:"key"`
	N       int64             `db:"n"`
}

func (s *Store) channelCounts(ctx context.Context, query string, runID int64) ([]channelCount, error) {
	var out []channelCount
	if err := s.db.SelectContext(ctx, &out, s.q(query), runID); err != nil {
		return nil, fmt.Errorf("%s of run %d: %w", query, runID, err)
	}
	return out, nil
}
