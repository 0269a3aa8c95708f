// Package worker runs the asynq handlers that send a campaign's messages: it leases a batch of
// deliveries, re-checks each member's consent, issues coupon codes, renders and sends through the
// channel's Sender, and records every outcome in the delivery ledger. This file declares the task
// types and their constructors, which the scheduler uses to enqueue work.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/campaigns"
)

// Task types, one per channel.
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

// Queues maps each queue to its asynq priority weight.
var Queues = map[string]int{QueueEmail: 6, QueueSMS: 3, QueuePrint: 1}

// BatchPayload is the whole of a task's payload: which batch to send. Ids only: no member data ever
// reaches Redis.
type BatchPayload struct {
	RunID   int64             `json:"r"`
	Channel campaigns.Channel `json:"c"`
	Batch   int               `json:"b"`
}

// QueueOf returns the queue and task type of a channel.
func QueueOf(ch campaigns.Channel) (queue, taskType string) {
	switch ch {
	case campaigns.SMS:
		return QueueSMS, TypeDeliverSMS
	case campaigns.Postal:
		return QueuePrint, TypeDeliverPostal
	}
	return QueueEmail, TypeDeliverEmail
}

// TaskID is the deterministic id of a batch's task: enqueueing the same batch twice does nothing.
func TaskID(b campaigns.Batch) string {
	return fmt.Sprintf("run%d:%s:%d", b.RunID, b.Channel, b.Batch)
}

// NewBatchTask returns the task that sends batch b. Transient failures are retried by asynq with its
// exponential backoff up to 25 times.
func NewBatchTask(b campaigns.Batch) (*asynq.Task, error) {
	payload, err := json.Marshal(BatchPayload{RunID: b.RunID, Channel: b.Channel, Batch: b.Batch})
	if err != nil {
		return nil, err
	}
	queue, typ := QueueOf(b.Channel)
	return asynq.NewTask(typ, payload, asynq.TaskID(TaskID(b)), asynq.Queue(queue),
		asynq.MaxRetry(25), asynq.Timeout(30*time.Minute)), nil
}

// ParseBatchPayload reads a task's payload; a malformed one is wrapped with asynq.SkipRetry.
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

// Queue puts batches into Redis through asynq. It is what the scheduler's Queue interface asks for.
type Queue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
}

// NewQueue returns a Queue on the Redis that opt names. Close it when done.
func NewQueue(opt asynq.RedisConnOpt) *Queue {
	return &Queue{client: asynq.NewClient(opt), inspector: asynq.NewInspector(opt)}
}

// Close closes the Redis connections.
func (q *Queue) Close() error {
	q.inspector.Close()
	return q.client.Close()
}

// Enqueue puts the batch's task into its queue. It returns created=false, and no error, when the task
// is already in Redis (pending, active, scheduled or retrying): that batch is in transit. A task that
// asynq archived after its retries is replaced, since its deliveries are still queued in the ledger.
func (q *Queue) Enqueue(ctx context.Context, b campaigns.Batch) (created bool, err error) {
	task, err := NewBatchTask(b)
	if err != nil {
		return false, err
	}
	queue, _ := QueueOf(b.Channel)
	if b.EnqueuedAt != nil {
		info, err := q.inspector.GetTaskInfo(queue, TaskID(b))
		switch {
		case err == nil && info.State == asynq.TaskStateArchived:
			if err := q.inspector.DeleteTask(queue, TaskID(b)); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return false, fmt.Errorf("replace archived task %s: %w", TaskID(b), err)
			}
		case err == nil:
			return false, nil
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		default:
			return false, fmt.Errorf("look up task %s: %w", TaskID(b), err)
		}
	}
	_, err = q.client.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", TaskID(b), err)
	}
	return true, nil
}
