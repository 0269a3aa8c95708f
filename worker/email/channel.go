package email

import (
	"context"
	"errors"
	"fmt"

	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// Channel is the email channel of a worker: it adapts a Sender to worker.Sender, turning a refused
// recipient (5xx at RCPT TO) into worker.ErrBounce, so the address is suppressed, and any other
// permanent refusal into worker.ErrPermanent.
type Channel struct {
	Sender *Sender
}

var _ worker.Sender = Channel{}

// Send sends the worker's message as email; the receipt's ProviderRef is the Message-ID.
func (c Channel) Send(ctx context.Context, m compose.Message) (worker.Receipt, error) {
	return c.SendWhen(ctx, m, nil)
}

var _ worker.GatedSender = Channel{}

// SendWhen sends the worker's message as email and ends its DATA once ready has returned (see
// Message.Ready).
func (c Channel) SendWhen(ctx context.Context, m compose.Message, ready func(context.Context) error) (worker.Receipt, error) {
	err := c.Sender.Send(ctx, Message{
		DeliveryID: m.DeliveryID,
		To:         m.To,
		Subject:    m.Content.Subject,
		Text:       m.Content.Text,
		HTML:       m.Content.HTML,
		Headers:    m.Headers,
		MessageID:  m.MessageID,
		Ready:      ready,
	})
	if err == nil {
		return worker.Receipt{ProviderRef: "<" + m.MessageID + ">"}, nil
	}
	var re *ReplyError
	switch {
	case errors.As(err, &re) && re.RecipientRefused():
		return worker.Receipt{}, fmt.Errorf("%w: %v", worker.ErrBounce, err)
	case errors.Is(err, ErrPermanent):
		return worker.Receipt{}, fmt.Errorf("%w: %v", worker.ErrPermanent, err)
	}
	return worker.Receipt{}, err
}
