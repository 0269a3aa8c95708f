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
}

// SelectResult says what a run's selection did. Selected is false when another scheduler holds the
// run or it was selected already. Skipped counts, per channel, the members left out by reason
// (deceased, no_address, no_consent, objected, address_protected, suppressed, frequency_cap).
type SelectResult struct {
	Selected   bool
	Deliveries int64
	Skipped    map[Channel]map[string]int64
}

// Batch names one queue task's worth of a run's deliveries on one channel. The queue carries only
// these numbers; the worker reads the members from the store.
type Batch struct {
	RunID      int64      `db:"run_id" json:"run_id"`
	Channel    Channel    `db:"channel" json:"channel"`
	Batch      int        `db:"batch" json:"batch"`
	Size       int        `db:"size" json:"size"`
	EnqueuedAt *time.Time `db:"enqueued_at" json:"enqueued_at,omitempty"`
}
