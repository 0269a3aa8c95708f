package scheduler

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker"
)

var _ Queue = (*RedisQueue)(nil)

// RedisQueue puts batches into Redis as asynq tasks (worker.NewBatchTask), for the workers to take.
// It is the scheduler's Queue. Create it with NewRedisQueue and Close it when done.
type RedisQueue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
}

// NewRedisQueue returns a queue on the Redis that opt names. It connects lazily: a Redis that cannot
// be reached shows as Enqueue's error.
func NewRedisQueue(opt asynq.RedisConnOpt) *RedisQueue {
	return &RedisQueue{client: asynq.NewClient(opt), inspector: asynq.NewInspector(opt)}
}

// Close closes the Redis connections, returning the client's error.
func (q *RedisQueue) Close() error {
	q.inspector.Close()
	return q.client.Close()
}

// Enqueue puts the batch's task into its queue. For a batch enqueued before (b.EnqueuedAt set: the
// scheduler found it unfinished, unleased and old), it first looks for the current task: one still
// waiting (pending, scheduled, retry) is in transit, and Enqueue creates nothing. A task that
// is gone (Redis lost it, someone deleted it) is created again; one that asynq archived after its
// retries is replaced; one still "active" although no worker holds the batch belonged to a worker
// that died, and the batch gets a task of the next generation. Two tasks for one batch do no harm:
// the batch lease lets one worker send it, and the ledger says what is left. It returns the
// generation of the task it created, or 0 when it created none; an error when Redis fails.
func (q *RedisQueue) Enqueue(ctx context.Context, b campaigns.Batch) (generation int, err error) {
	queue, _ := worker.QueueOf(b.Channel)
	b.Enqueues = max(b.Enqueues, 1)
	if b.EnqueuedAt != nil {
		info, err := q.inspector.GetTaskInfo(queue, worker.TaskID(b))
		switch {
		case err == nil && info.State == asynq.TaskStateArchived:
			if err := q.inspector.DeleteTask(queue, worker.TaskID(b)); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return 0, fmt.Errorf("replace archived task %s: %w", worker.TaskID(b), err)
			}
		case err == nil && info.State == asynq.TaskStateActive:
			b.Enqueues++
		case err == nil:
			return 0, nil
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		default:
			return 0, fmt.Errorf("look up task %s: %w", worker.TaskID(b), err)
		}
	}
	task, err := worker.NewBatchTask(b)
	if err != nil {
		return 0, err
	}
	_, err = q.client.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", worker.TaskID(b), err)
	}
	return b.Enqueues, nil
}
