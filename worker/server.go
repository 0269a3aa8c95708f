package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// ServerConfig tunes the asynq server of a worker process.
type ServerConfig struct {
	// Concurrency is how many batches are sent at once. Default 10.
	Concurrency int
	// Queues limits the queues served (email, sms, print); empty serves all, weighted by Queues.
	Queues []string
	// ShutdownTimeout is how long SIGTERM waits for batches to give back. Default 30s.
	ShutdownTimeout time.Duration
	// RetryDelay, when set, replaces asynq's exponential backoff with a fixed delay (tests).
	RetryDelay time.Duration
}

// Serve runs the worker's asynq server on Redis until ctx is cancelled, then stops taking tasks,
// lets each running batch finish the message in hand and record it, and returns nil. It fails at
// once when cfg names an unknown queue or the server cannot start.
func Serve(ctx context.Context, redis asynq.RedisConnOpt, w *Worker, cfg ServerConfig, log *slog.Logger) error {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 10
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	queues := Queues
	if len(cfg.Queues) > 0 {
		queues = map[string]int{}
		for _, q := range cfg.Queues {
			weight, ok := Queues[q]
			if !ok {
				return fmt.Errorf("unknown queue %q (want email, sms or print)", q)
			}
			queues[q] = weight
		}
	}
	var retryDelay asynq.RetryDelayFunc
	if cfg.RetryDelay > 0 {
		retryDelay = func(int, error, *asynq.Task) time.Duration { return cfg.RetryDelay }
	}
	srv := asynq.NewServer(redis, asynq.Config{
		RetryDelayFunc: retryDelay,
		// An idle worker looks for work every 25 ms (asynq's default is a second; one small Lua
		// script on Redis per queue each time): the first message of a run goes out within a
		// quarter of a second of its scheduling.
		TaskCheckInterval: 25 * time.Millisecond,
		// Retried batches come back within a second of their backoff (default: 5 s).
		DelayedTaskCheckInterval: time.Second,
		Concurrency:              cfg.Concurrency,
		Queues:                   queues,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		Logger:                   asynqLogger{log.With(slog.String("component", "asynq"))},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler:             errorHandler(log),
	})
	if err := srv.Start(w.Handler()); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	log.Info("worker started", slog.Int("concurrency", cfg.Concurrency), slog.Any("queues", queues))
	<-ctx.Done()
	log.Info("worker draining")
	w.Stop()
	srv.Shutdown()
	// The batches have returned, each once its messages were written; this waits for a statement
	// still being tried again (the database away) for as long as a batch may take to give back.
	dctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := w.Drain(dctx); err != nil {
		log.Error("worker stopped with sent messages not yet in the ledger: they are sent again", "err", err)
	}
	log.Info("worker stopped")
	return nil
}

// errorHandler is where the error of a failed batch task is handled, and so the one place it is
// logged: a send cut short because ctx ended (with its delivery's id, from the *sendError), a
// failure of the store, a bad payload. (A transient failure of one delivery does not fail the
// task: the worker records and logs it, and the batch goes on.) It logs the task's id, the batch (run, channel, batch), how many times the
// task was retried, and whether asynq gives up on it (SkipRetry, or its retries used up). A batch
// given back on Stop, or held by another worker, is not a failure: asynq retries it, and nothing is
// logged.
func errorHandler(log *slog.Logger) asynq.ErrorHandlerFunc {
	return func(ctx context.Context, t *asynq.Task, err error) {
		if errors.Is(err, errStopping) || errors.Is(err, errLeased) {
			return
		}
		id, _ := asynq.GetTaskID(ctx)
		retried, _ := asynq.GetRetryCount(ctx)
		attrs := []any{slog.String("task_id", id), slog.String("task_type", t.Type()), slog.Int("retried", retried)}
		if p, perr := ParseBatchPayload(t); perr == nil {
			attrs = append(attrs, slog.Int64("run_id", p.RunID), slog.String("channel", string(p.Channel)), slog.Int("batch", p.Batch))
		}
		var se *sendError
		if errors.As(err, &se) {
			attrs = append(attrs, slog.Int64("delivery_id", se.deliveryID))
		}
		msg := "batch task failed; asynq retries it with backoff"
		if maxRetry, ok := asynq.GetMaxRetry(ctx); errors.Is(err, asynq.SkipRetry) || ok && retried >= maxRetry {
			msg = "batch task failed for good; asynq archives it"
		}
		log.Warn(msg, append(attrs, "err", err)...)
	}
}

// asynqLogger sends asynq's own messages (a lost Redis connection, a failed dequeue) to slog as
// structured lines at the matching level, the message as msg, instead of asynq's raw lines on
// stderr. asynq's Fatal is logged at Error and does not exit: the worker decides when to stop.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...)) }
