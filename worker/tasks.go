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

// Enqueue puts the batch's task into its queue. For a batch enqueued before (b.EnqueuedAt set: the
// scheduler found it unfinished, unleased and old), it first looks for the current task: one still
// waiting (pending, scheduled, retry) is in transit, and Enqueue reports created=false. A task that
// is gone (Redis lost it, someone deleted it) is created again; one that asynq archived after its
// retries is replaced; one still "active" although no worker holds the batch belonged to a worker
// that died, and the batch gets a task of the next generation. Two tasks for one batch do no harm:
// the batch lease lets one worker send it, and the ledger says what is left. It returns the
// generation of the task it created, or 0 when it created none.
func (q *Queue) Enqueue(ctx context.Context, b campaigns.Batch) (generation int, err error) {
	queue, _ := QueueOf(b.Channel)
	b.Enqueues = max(b.Enqueues, 1)
	if b.EnqueuedAt != nil {
		info, err := q.inspector.GetTaskInfo(queue, TaskID(b))
		switch {
		case err == nil && info.State == asynq.TaskStateArchived:
			if err := q.inspector.DeleteTask(queue, TaskID(b)); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return 0, fmt.Errorf("replace archived task %s: %w", TaskID(b), err)
			}
		case err == nil && info.State == asynq.TaskStateActive:
			b.Enqueues++
		case err == nil:
			return 0, nil
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		default:
			return 0, fmt.Errorf("look up task %s: %w", TaskID(b), err)
		}
	}
	task, err := NewBatchTask(b)
	if err != nil {
		return 0, err
	}
	_, err = q.client.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", TaskID(b), err)
	}
	return b.Enqueues, nil
}
