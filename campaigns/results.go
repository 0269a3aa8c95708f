package campaigns

import "time"

// RunResults is what one run of a campaign did, for the console's results page: the run, its sends
// over time (a chart), and per channel the outcome of its deliveries, the withdrawals it led to and
// its coupons. Figures are read live: a run still sending shows what it has done so far, as of AsOf.
//
// Withdrawals attributes a member's own withdrawal to a run. Neither an unsubscribe link (its token
// names the member and the channel, not the message) nor an SMS STOP (a reply to a number, not to a
// message) names the delivery it answers, so the rule is "last touch": a withdrawal recorded with
// source unsubscribe-link (email) or sms-stop (SMS) counts for this run when the member had a
// delivery of this run on that channel sent at or before the withdrawal, and no delivery on that
// channel from another run sent after this run's and at or before the withdrawal. Each member counts
// once per channel. There is no time limit: a STOP a month later still counts for the last message
// the member got. A member erased since takes their consent history along, and no longer counts.
type RunResults struct {
	CampaignID int64 `json:"campaign_id"`
	// CampaignStatus is the campaign's state now (a recurring campaign may be scheduled again).
	CampaignStatus CampaignStatus `json:"campaign_status"`
	RunID          int64          `json:"run_id"`
	Status         RunStatus      `json:"status"`
	ScheduledFor   time.Time      `json:"scheduled_for"`
	StartedAt      time.Time      `json:"started_at"`
	FinishedAt     *time.Time     `json:"finished_at,omitempty"`
	// AsOf is when the figures were read.
	AsOf time.Time `json:"as_of"`
	// BucketSeconds is the width of Timeline's buckets (TimelineBucket of the run's span).
	BucketSeconds int64 `json:"bucket_seconds"`
	// Timeline counts the deliveries sent in each bucket, per channel of Channels (zeros included),
	// from the bucket holding StartedAt to the one holding FinishedAt (AsOf while the run is not
	// finished): at most MaxTimelineBuckets, none left out. A message sent after the last bucket
	// began (one in flight when the run was cancelled) counts in the last bucket.
	Timeline []SendBucket `json:"timeline"`
	// Channels are the campaign's channels (and any other the run has deliveries on).
	Channels map[Channel]ChannelResults `json:"channels"`
}

// BucketWidth is the width of the run's timeline buckets.
func (r RunResults) BucketWidth() time.Duration { return time.Duration(r.BucketSeconds) * time.Second }

// SendBucket is one bucket of a run's timeline: the deliveries sent from Start for the bucket's
// width, per channel.
type SendBucket struct {
	Start time.Time         `json:"start"`
	Sent  map[Channel]int64 `json:"sent"`
}

// ChannelResults is the outcome of a run on one channel: its deliveries by state with the skip
// reasons (ChannelStats, as `campaigns status` counts them), the failures by reason, the members'
// withdrawals that the run led to (see RunResults) and its coupons.
type ChannelResults struct {
	ChannelStats
	// FailedByReason counts the failed deliveries by their recorded reason: the MaxFailureReasons
	// commonest reasons, and the rest under OtherFailureReasons.
	FailedByReason map[string]int64 `json:"failed_by_reason,omitempty"`
	// Withdrawals counts the members who withdrew their consent on the channel themselves after this
	// run's message: email, by the unsubscribe link; SMS, by a STOP reply. Postal: always 0 (an
	// objection to post comes through customer service, never in answer to a letter).
	Withdrawals int64 `json:"withdrawals"`
	// CouponsIssued counts the coupon codes the run issued on the channel; CouponsRedeemed, how many
	// of them were redeemed so far.
	CouponsIssued   int64 `json:"coupons_issued"`
	CouponsRedeemed int64 `json:"coupons_redeemed"`
}

// MaxFailureReasons is how many distinct failure reasons ChannelResults lists by name; the others
// are added up under OtherFailureReasons.
const MaxFailureReasons = 20

// OtherFailureReasons is the key under which ChannelResults.FailedByReason adds up the failures
// beyond the MaxFailureReasons commonest reasons.
const OtherFailureReasons = "(other reasons)"

// timelineBuckets are the widths a timeline's buckets may have, narrowest first.
var timelineBuckets = []time.Duration{
	time.Second, 10 * time.Second, time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour,
	24 * time.Hour, 7 * 24 * time.Hour,
}

// MaxTimelineBuckets is the most buckets TimelineBucket lets a run's timeline have.
const MaxTimelineBuckets = 60

// TimelineBucket returns the width of the buckets of a timeline spanning span: the narrowest of 1 s,
// 10 s, 1 min, 10 min, 1 h, 6 h, 1 day and 1 week that cuts span into at most MaxTimelineBuckets
// buckets, counting the one its end falls in; for a longer span, whole weeks. A negative span is
// taken as 0.
func TimelineBucket(span time.Duration) time.Duration {
	span = max(span, 0)
	for _, w := range timelineBuckets {
		if span/w < MaxTimelineBuckets {
			return w
		}
	}
	week := timelineBuckets[len(timelineBuckets)-1]
	return (span/MaxTimelineBuckets/week + 1) * week
}
