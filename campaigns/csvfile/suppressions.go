package csvfile

import (
	"fmt"
	"io"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/phone"
)

// SuppressionColumns are the columns of a suppression file.
var SuppressionColumns = []string{"channel", "value"}

// SuppressionRow is one clean row of the file (campaigns.SuppressionRow).
type SuppressionRow = campaigns.SuppressionRow

// ReadSuppressions reads a suppression file (channel,value) and calls row for each clean row.
// Errors are as for ReadMembers.
func ReadSuppressions(r io.Reader, name string, row func(SuppressionRow) error) ([]RowError, error) {
	t, err := openTable(r, name, SuppressionColumns, nil)
	if err != nil {
		return nil, err
	}
	return readRows(t, suppressionRow, "", nil, row)
}

func suppressionRow(t *table) (SuppressionRow, []RowError) {
	// The value is read by its channel: a bad channel is the one problem reported.
	bad := func(field, reason string) []RowError { return []RowError{{Line: t.line, Field: field, Reason: reason}} }
	s := SuppressionRow{Line: t.line}
	ch, err := campaigns.ParseChannel(t.get("channel"))
	if err != nil {
		return s, bad("channel", err.Error())
	}
	s.Channel = ch
	v := t.get("value")
	if v == "" {
		return s, bad("value", "is empty")
	}
	switch ch {
	case campaigns.Email:
		v, err = campaigns.NormalizeEmail(v)
	case campaigns.SMS:
		// A landline is suppressed like a mobile number: the list says whom not to
		// market to, whatever the line.
		v, _, err = phone.Normalize(v)
	case campaigns.Postal:
		parts := strings.Split(v, "|")
		if len(parts) != 3 || strings.TrimSpace(parts[0]) == "" || strings.TrimSpace(parts[1]) == "" ||
			!campaigns.ValidPostalCode(strings.ReplaceAll(parts[2], " ", "")) {
			err = fmt.Errorf("postal key must be LAST_NAME|STREET|POSTAL_CODE with a five-digit postal code")
		}
	}
	if err != nil {
		return s, bad("value", err.Error())
	}
	s.Value = v
	return s, nil
}
