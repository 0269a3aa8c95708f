package service

import (
	"context"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// ResultsStore is what a run's results need of the store.
type ResultsStore interface {
	// RunResults reports what a run of the campaign did (runID 0: its latest run), with now as the
	// end of an unfinished run's timeline. An unknown campaign, a run that is not the campaign's, or
	// a campaign that has not run is ErrNotFound.
	RunResults(ctx context.Context, campaignID, runID int64, now time.Time) (campaigns.RunResults, error)
}

// RunResults returns what one run of the campaign did (runID 0: its latest): the run, its sends per
// channel over time, its deliveries by state with skip and failure reasons, the unsubscribes and SMS
// STOPs it led to, and its coupons issued and redeemed (see campaigns.RunResults). A run that is not
// the campaign's is ErrNotFound. Marketers and ops.
func (s *Service) RunResults(ctx context.Context, actor campaigns.User, campaignID, runID int64) (campaigns.RunResults, error) {
	if err := allow(actor, "read a run's results", campaigns.RoleMarketer, campaigns.RoleOps); err != nil {
		return campaigns.RunResults{}, err
	}
	return s.store.RunResults(ctx, campaignID, runID, s.cfg.Now())
}
