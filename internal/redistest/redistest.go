// Package redistest gives each test a Redis database of its own on the test Redis
// (DISPATCH_TEST_REDIS_URL, default redis://127.0.0.1:6379): databases 1 to 15 are claimed with a key
// in database 0, so test packages running in parallel never share one. The database is flushed
// before the test gets it and after it ends. A test that cannot reach Redis fails; it is never skipped.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// DefaultURL is the Redis used when DISPATCH_TEST_REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379"

// DB is a claimed Redis database.
type DB struct {
	// URL is redis://host:port/N for the claimed database N.
	URL string
	// Opt is the same for asynq.
	Opt asynq.RedisClientOpt
	// Client is a go-redis client on the database.
	Client *redis.Client
}

// New claims a free database for the test and releases it when the test ends.
func New(t testing.TB) *DB {
	t.Helper()
	base := os.Getenv("DISPATCH_TEST_REDIS_URL")
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("redistest: DISPATCH_TEST_REDIS_URL: %v", err)
	}
	ctx := context.Background()
	ctl := redis.NewClient(&redis.Options{Addr: u.Host, DB: 0})
	token := make([]byte, 8)
	rand.Read(token)
	owner := hex.EncodeToString(token)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for n := 1; n <= 15; n++ {
			key := fmt.Sprintf("dispatch-test:db:%d", n)
			ok, err := ctl.SetNX(ctx, key, owner, 10*time.Minute).Result()
			if err != nil {
				ctl.Close()
				t.Fatalf("redistest: is Redis running at %s? %v", u.Host, err)
			}
			if !ok {
				continue
			}
			db := &DB{
				URL:    fmt.Sprintf("redis://%s/%d", u.Host, n),
				Opt:    asynq.RedisClientOpt{Addr: u.Host, DB: n},
				Client: redis.NewClient(&redis.Options{Addr: u.Host, DB: n}),
			}
			if err := db.Client.FlushDB(ctx).Err(); err != nil {
				t.Fatalf("redistest: flush db %d: %v", n, err)
			}
			t.Cleanup(func() {
				db.Client.FlushDB(context.Background())
				db.Client.Close()
				if v, _ := ctl.Get(context.Background(), key).Result(); strings.EqualFold(v, owner) {
					ctl.Del(context.Background(), key)
				}
				ctl.Close()
			})
			return db
		}
		if time.Now().After(deadline) {
			ctl.Close()
			t.Fatal("redistest: no free Redis database in 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
