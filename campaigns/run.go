package campaigns

import "time"

// NextRunFunc says when a campaign runs next after a run scheduled for after; nil means never again.
type NextRunFunc func(spec Spec, after time.Time) (*time.Time, error)

// SelectOptions tune a run's selection.
type SelectOptions struct {
	// BatchSize is how many email or SMS deliveries one queue task carries. Default 500.
	BatchSize int
	// PrintBatchSize is how many letters one print batch holds. Default and maximum 5000.
	PrintBatchSize int
	// SliceSize is how many members one selection step (one transaction) goes through. Default
	// 50,000; the first slice of a run is at most 1,000 so that sending starts at once.
	SliceSize int
}

// SelectResult says what one step of a run's selection did. Selected is false when another
// scheduler holds the run or it was selected already; Done is true when the selection is complete,
// and then Skipped counts, per channel, the members left out by reason (SkipReason: deceased, no_address,
// landline, no_consent, objected, address_protected, suppressed, frequency_cap). Deliveries counts the
// deliveries this step recorded.
type SelectResult struct {
	Selected   bool
	Done       bool
	Deliveries int64
	Skipped    map[Channel]map[SkipReason]int64
}

// Batch names one queue task's worth of a run's deliveries on one channel. The queue carries only
// these numbers; the worker reads the members from the store.
type Batch struct {
	RunID      int64      `db:"run_id" json:"run_id"`
	Channel    Channel    `db:"channel" json:"channel"`
	Batch      int        `db:"batch" json:"batch"`
	Size       int        `db:"size" json:"size"`
	EnqueuedAt *time.Time `db:"enqueued_at" json:"enqueued_at,omitempty"`
	// Enqueues counts the tasks created for the batch so far; it names the current one.
	Enqueues int `db:"enqueues" json:"enqueues"`
}

// RunStatus is where a run is: selecting its members, running (sending), paused, finished, cancelled.
type RunStatus string

// The run states.
const (
	RunSelecting RunStatus = "selecting"
	RunRunning   RunStatus = "running"
	RunPaused    RunStatus = "paused"
	RunFinished  RunStatus = "finished"
	RunCancelled RunStatus = "cancelled"
)

// Sending reports whether the run's batches may be sent: while the rest of it is still being
// selected, and once it is selected.
func (s RunStatus) Sending() bool { return s == RunSelecting || s == RunRunning }

// Run is one run of a campaign with the campaign's spec, as a worker needs it.
type Run struct {
	ID         int64     `db:"id"`
	CampaignID int64     `db:"campaign_id"`
	Status     RunStatus `db:"status"`
	Spec       Spec      `db:"-"`
}

// Delivery is one message of a run to one member on one channel, with the member's details as the
// message needs them. It lives only in a worker's memory while the message is sent.
type Delivery struct {
	ID       int64   `db:"id"`
	RunID    int64   `db:"run_id"`
	Channel  Channel `db:"channel"`
	Attempts int     `db:"attempts"`
	Member   Member  `db:"member"`
}

// Recheck is the send-time answer for one delivery: Reason is why the member may no longer be sent
// to on the channel ("" when they may), RunStatus whether the run is still running.
type Recheck struct {
	DeliveryID int64      `db:"id"`
	Reason     SkipReason `db:"reason"`
	RunStatus  RunStatus  `db:"run_status"`
}

// DeliveryStatus is where one delivery of the ledger is. Queued deliveries wait for a worker; the
// other states are final.
type DeliveryStatus string

// The delivery states.
const (
	DeliveryQueued    DeliveryStatus = "queued"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliverySkipped   DeliveryStatus = "skipped"
	DeliveryCancelled DeliveryStatus = "cancelled"
)

// SkipReason says why a member was left out of a run on a channel, at selection (counted in the
// run's skips) or at send time (recorded on the delivery). The member_reach view of the store
// computes deceased to suppressed (landline included); the rest come from the selection and the workers.
type SkipReason string

// The skip reasons.
const (
	SkipDeceased         SkipReason = "deceased"
	SkipNoAddress        SkipReason = "no_address"
	SkipNoConsent        SkipReason = "no_consent"
	SkipObjected         SkipReason = "objected"
	SkipAddressProtected SkipReason = "address_protected"
	SkipSuppressed       SkipReason = "suppressed"
	// SkipLandline: the member's phone number cannot take an SMS (a landline or a service
	// number). The member_reach view computes it, like the six above.
	SkipLandline SkipReason = "landline"
	// SkipFrequencyCap: the member had the cap's number of marketing messages on the channel.
	SkipFrequencyCap SkipReason = "frequency_cap"
	// SkipErased: the member was erased between selection and send.
	SkipErased SkipReason = "erased"
)

// IssuedCoupon is a coupon code issued for a delivery.
type IssuedCoupon struct {
	DeliveryID int64     `db:"delivery_id"`
	Code       string    `db:"code"`
	ValidUntil time.Time `db:"valid_until"`
}

// Sent is a message a worker has handed to its provider, to be recorded in the ledger.
type Sent struct {
	DeliveryID  int64
	At          time.Time
	ProviderRef string
	Segments    int
}
