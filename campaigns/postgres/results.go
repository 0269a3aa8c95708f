package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// RunResults reports what one run of the campaign did (runID, or the latest run when runID is 0):
// the run, its sends per channel over time in buckets of campaigns.TimelineBucket, its deliveries by
// state and skip reason (as CampaignStats counts them), its failures by reason, the withdrawals it
// led to (the rule is campaigns.RunResults') and its coupons issued and redeemed. now is the end of
// the timeline of a run that has not finished. An unknown campaign, a run that is not the
// campaign's, or a campaign that has no run yet is ErrNotFound.
func (s *Store) RunResults(ctx context.Context, campaignID, runID int64, now time.Time) (campaigns.RunResults, error) {
	st, err := s.CampaignStats(ctx, campaignID, runID)
	if err != nil {
		return campaigns.RunResults{}, err
	}
	if st.RunID == 0 {
		return campaigns.RunResults{}, campaigns.Errorf(campaigns.ErrNotFound, "campaign %d has not run yet", campaignID)
	}
	var run campaigns.RunSummary
	err = s.db.GetContext(ctx, &run, s.q("run-results-run"), st.RunID)
	if errors.Is(err, sql.ErrNoRows) {
		return campaigns.RunResults{}, campaigns.Errorf(campaigns.ErrNotFound, "campaign %d has no run %d", campaignID, st.RunID)
	}
	if err != nil {
		return campaigns.RunResults{}, fmt.Errorf("results of run %d: %w", st.RunID, err)
	}
	res := campaigns.RunResults{
		CampaignID: campaignID, CampaignStatus: st.Status, RunID: st.RunID, Status: run.Status,
		ScheduledFor: run.ScheduledFor, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, AsOf: now,
		Channels: make(map[campaigns.Channel]campaigns.ChannelResults, len(st.Channels)),
	}
	for ch, cs := range st.Channels {
		res.Channels[ch] = campaigns.ChannelResults{ChannelStats: cs}
	}

	// The timeline runs from the start to the finish (or now).
	end := now
	if run.FinishedAt != nil {
		end = *run.FinishedAt
	}
	bucket := campaigns.TimelineBucket(end.Sub(run.StartedAt))
	buckets := int64(max(end.Sub(run.StartedAt), 0)/bucket) + 1
	res.BucketSeconds = int64(bucket / time.Second)
	var sends []struct {
		Channel campaigns.Channel `db:"channel"`
		Bucket  int64             `db:"bucket"`
		N       int64             `db:"n"`
	}
	// The buckets start at the whole second the run started in: run_sends counts by second.
	origin := run.StartedAt.Truncate(time.Second)
	if err := s.db.SelectContext(ctx, &sends, s.q("run-results-timeline"), st.RunID, origin, res.BucketSeconds, buckets-1); err != nil {
		return res, fmt.Errorf("timeline of run %d: %w", st.RunID, err)
	}
	res.Timeline = make([]campaigns.SendBucket, buckets)
	for i := range res.Timeline {
		sent := make(map[campaigns.Channel]int64, len(res.Channels))
		for ch := range res.Channels {
			sent[ch] = 0
		}
		res.Timeline[i] = campaigns.SendBucket{Start: origin.Add(time.Duration(i) * bucket), Sent: sent}
	}
	for _, x := range sends {
		res.Timeline[x.Bucket].Sent[x.Channel] += x.N
	}

	failures, err := s.channelCounts(ctx, "run-results-failures", st.RunID)
	if err != nil {
		return res, err
	}
	for _, f := range failures { // commonest first within each channel
		cr := res.Channels[f.Channel]
		if cr.FailedByReason == nil {
			cr.FailedByReason = map[string]int64{}
		}
		key := f.Key
		if len(cr.FailedByReason) >= campaigns.MaxFailureReasons {
			key = campaigns.OtherFailureReasons
		}
		cr.FailedByReason[key] += f.N
		res.Channels[f.Channel] = cr
	}

	withdrawals, err := s.channelCounts(ctx, "run-results-withdrawals", st.RunID)
	if err != nil {
		return res, err
	}
	for _, w := range withdrawals {
		cr := res.Channels[w.Channel]
		cr.Withdrawals = w.N
		res.Channels[w.Channel] = cr
	}

	var coupons []struct {
		Channel  campaigns.Channel `db:"channel"`
		Issued   int64             `db:"issued"`
		Redeemed int64             `db:"redeemed"`
	}
	if err := s.db.SelectContext(ctx, &coupons, s.q("run-results-coupons"), st.RunID); err != nil {
		return res, fmt.Errorf("coupons of run %d: %w", st.RunID, err)
	}
	for _, c := range coupons {
		cr := res.Channels[c.Channel]
		cr.CouponsIssued, cr.CouponsRedeemed = c.Issued, c.Redeemed
		res.Channels[c.Channel] = cr
	}
	return res, nil
}
