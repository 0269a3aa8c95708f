package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/jacksmood/dispatch/campaigns"
)

// RedisLimiter holds each channel to a send rate shared by every worker on the same Redis: a
// GCRA limiter (redis_rate) whose state lives in Redis, keyed by channel only.
type RedisLimiter struct {
	limiter *redis_rate.Limiter
	limits  map[campaigns.Channel]redis_rate.Limit
}

// NewRedisLimiter returns a limiter with rate n per period for each channel given; channels not in
// rates are not limited.
func NewRedisLimiter(rdb *redis.Client, rates map[campaigns.Channel]Rate) *RedisLimiter {
	l := &RedisLimiter{limiter: redis_rate.NewLimiter(rdb), limits: map[campaigns.Channel]redis_rate.Limit{}}
	for ch, r := range rates {
		if r.N > 0 {
			l.limits[ch] = redis_rate.Limit{Rate: r.N, Burst: r.N, Period: r.Per}
		}
	}
	return l
}

// Rate is N messages per Per; N <= 0 means no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// Wait blocks until n messages may be sent on ch; a channel without a rate never waits. It returns
// ctx's error when ctx ends first, and an error when Redis cannot be asked.
func (l *RedisLimiter) Wait(ctx context.Context, ch campaigns.Channel, n int) error {
	limit, ok := l.limits[ch]
	if !ok {
		return nil
	}
	for n > 0 {
		take := min(n, limit.Burst)
		res, err := l.limiter.AllowN(ctx, "dispatch:rate:"+string(ch), limit, take)
		if err != nil {
			return fmt.Errorf("rate limit %s: %w", ch, err)
		}
		if res.Allowed == take {
			n -= take
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(res.RetryAfter):
		}
	}
	return nil
}
