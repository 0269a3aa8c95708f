package worker

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/campaigns"
)

// Task types, one per channel: the type of every task NewBatchTask creates, and what Handler routes.
const (
	TypeDeliverEmail  = "deliver:email"
	TypeDeliverSMS    = "deliver:sms"
	TypeDeliverPostal = "deliver:postal"
)

// Queues, one per channel, so that a slow channel does not hold the others up.
const (
	QueueEmail = "email"
	QueueSMS   = "sms"
	QueuePrint = "print"
)

// Queues maps each queue to its asynq priority weight: the queues a worker serves by default
// (ServerConfig.Queues picks some of them).
var Queues = map[string]int{QueueEmail: 6, QueueSMS: 3, QueuePrint: 1}

// BatchPayload is the whole of a task's payload: which batch to send. Ids only: no member data ever
// reaches Redis.
type BatchPayload struct {
	RunID   int64             `json:"r"`
	Channel campaigns.Channel `json:"c"`
	Batch   int               `json:"b"`
}

// QueueOf returns the queue and task type of a channel; a channel it does not know goes to the email
// queue, whose handler refuses it (ParseBatchPayload checks the channel).
func QueueOf(ch campaigns.Channel) (queue, taskType string) {
	switch ch {
	case campaigns.SMS:
		return QueueSMS, TypeDeliverSMS
	case campaigns.Postal:
		return QueuePrint, TypeDeliverPostal
	}
	return QueueEmail, TypeDeliverEmail
}

// TaskID is the deterministic id of a batch's current task: enqueueing the same batch twice does
// nothing. The first task of batch 3 of run 7 on email is "run7:email:3"; a task created because the
// previous one was lost with a dead worker gets the number of its generation: "run7:email:3:g2".
func TaskID(b campaigns.Batch) string {
	id := fmt.Sprintf("run%d:%s:%d", b.RunID, b.Channel, b.Batch)
	if b.Enqueues > 1 {
		id += fmt.Sprintf(":g%d", b.Enqueues)
	}
	return id
}

// NewBatchTask returns the task that sends batch b, in its channel's queue, with the id TaskID(b)
// and a payload of ids only. A task that fails (a store failure, a print batch the printer could
// not write, the worker stopping) is retried by asynq with its exponential backoff up to 25 times;
// a transient failure of one email or SMS does not fail the task (see ProcessBatch). A run of the
// task times out after 30 minutes. It fails only when the payload cannot be encoded.
func NewBatchTask(b campaigns.Batch) (*asynq.Task, error) {
	payload, err := json.Marshal(BatchPayload{RunID: b.RunID, Channel: b.Channel, Batch: b.Batch})
	if err != nil {
		return nil, err
	}
	queue, typ := QueueOf(b.Channel)
	return asynq.NewTask(typ, payload, asynq.TaskID(TaskID(b)), asynq.Queue(queue),
		asynq.MaxRetry(25), asynq.Timeout(30*time.Minute)), nil
}

// ParseBatchPayload reads a task's payload. A malformed one (not JSON, no run, a negative batch, an
// unknown channel) returns an error wrapping asynq.SkipRetry: retrying cannot mend it.
func ParseBatchPayload(t *asynq.Task) (BatchPayload, error) {
	var p BatchPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("task %s: bad payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if p.RunID <= 0 || p.Batch < 0 {
		return p, fmt.Errorf("task %s: bad payload %s: %w", t.Type(), t.Payload(), asynq.SkipRetry)
	}
	if _, err := campaigns.ParseChannel(string(p.Channel)); err != nil {
		return p, fmt.Errorf("task %s: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return p, nil
}
