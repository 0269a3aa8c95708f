package worker

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/campaigns"
)

func TestBatchTasksCarryIdsOnly(t *testing.T) {
	b := campaigns.Batch{RunID: 7, Channel: campaigns.SMS, Batch: 3}
	task, err := NewBatchTask(b)
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeDeliverSMS || string(task.Payload()) != `{"r":7,"c":"sms","b":3}` {
		t.Fatalf("task %s %s", task.Type(), task.Payload())
	}
	if TaskID(b) != "run7:sms:3" {
		t.Fatalf("task id %q", TaskID(b))
	}
	p, err := ParseBatchPayload(task)
	if err != nil || p.RunID != 7 || p.Channel != campaigns.SMS || p.Batch != 3 {
		t.Fatalf("parsed %+v %v", p, err)
	}
	for _, payload := range []string{`{`, `{"r":0,"c":"email","b":1}`, `{"r":1,"c":"fax","b":1}`, `{"r":1,"c":"email","b":-1}`} {
		_, err := ParseBatchPayload(asynq.NewTask(TypeDeliverEmail, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %s: %v, want SkipRetry", payload, err)
		}
	}
	queue, typ := QueueOf(campaigns.Postal)
	if queue != QueuePrint || typ != TypeDeliverPostal {
		t.Fatalf("postal goes to %s/%s", queue, typ)
	}
	var m map[string]any
	json.Unmarshal(task.Payload(), &m)
	if len(m) != 3 {
		t.Fatalf("payload has fields %v", m)
	}
}
