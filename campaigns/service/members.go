package service

import (
	"context"
	"io"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/demodata"
)

// ImportMembers imports or updates members from a member CSV read from r (name is the file's name,
// for messages and the audit log); consents in it are recorded with source. Bad rows are skipped and
// listed in the result; a file that cannot be trusted is a *campaigns.FileError and nothing is
// imported. Privacy officers.
func (s *Service) ImportMembers(ctx context.Context, actor campaigns.User, r io.Reader, name string, source campaigns.ConsentSource) (campaigns.ImportResult, error) {
	if err := allow(actor, "import members", campaigns.RolePrivacy); err != nil {
		return campaigns.ImportResult{}, err
	}
	rows := func(row func(campaigns.MemberRow) error) ([]campaigns.RowError, error) {
		return csvfile.ReadMembers(r, name, row)
	}
	return s.store.ImportMembers(ctx, rows, source, entry(actor, campaigns.AuditMembersImport).With("file", name).With("source", source))
}

// ImportPurchases imports the purchases of a purchase CSV; a re-import adds nothing. Errors are as
// for ImportMembers. Privacy officers.
func (s *Service) ImportPurchases(ctx context.Context, actor campaigns.User, r io.Reader, name string) (campaigns.AddResult, error) {
	if err := allow(actor, "import purchases", campaigns.RolePrivacy); err != nil {
		return campaigns.AddResult{}, err
	}
	rows := func(row func(campaigns.PurchaseRow) error) ([]campaigns.RowError, error) {
		return csvfile.ReadPurchases(r, name, row)
	}
	return s.store.ImportPurchases(ctx, rows, entry(actor, campaigns.AuditPurchasesImport).With("file", name))
}

// ImportSuppressions adds the rows of a suppression CSV to the suppression list with the reason.
// Errors are as for ImportMembers. Privacy officers.
func (s *Service) ImportSuppressions(ctx context.Context, actor campaigns.User, r io.Reader, name string, reason campaigns.SuppressionReason) (campaigns.AddResult, error) {
	if err := allow(actor, "import suppressions", campaigns.RolePrivacy); err != nil {
		return campaigns.AddResult{}, err
	}
	if _, err := campaigns.ParseSuppressionReason(string(reason)); err != nil {
		return campaigns.AddResult{}, err
	}
	rows := func(row func(campaigns.SuppressionRow) error) ([]campaigns.RowError, error) {
		return csvfile.ReadSuppressions(r, name, row)
	}
	return s.store.ImportSuppressions(ctx, rows, reason, entry(actor, campaigns.AuditSuppressionImport).With("file", name).With("reason", reason))
}

// Seed adds n generated, deterministic demo members (campaigns/demodata with the seed) to a
// register that does not hold them yet (ErrConflict otherwise). Admins.
func (s *Service) Seed(ctx context.Context, actor campaigns.User, n int, seed uint64) (campaigns.SeedResult, error) {
	if err := allow(actor, "seed demo members"); err != nil {
		return campaigns.SeedResult{}, err
	}
	return s.store.SeedMembers(ctx, n, demodata.Source(seed, s.cfg.Now()), entry(actor, campaigns.AuditMembersSeed).With("seed", seed))
}

// ExportMember returns everything held about a member (right of access), by external id, or
// ErrNotFound. Privacy officers; audited for the member.
func (s *Service) ExportMember(ctx context.Context, actor campaigns.User, externalID string) (*campaigns.MemberExport, error) {
	if err := allow(actor, "export a member", campaigns.RolePrivacy); err != nil {
		return nil, err
	}
	if err := checkText("external_id", externalID); err != nil {
		return nil, err
	}
	return s.store.ExportMember(ctx, externalID, entry(actor, campaigns.AuditMembersExport))
}

// EraseMember erases a member's personal data, by external id, and returns the internal id, or
// ErrNotFound. Deliveries and coupons stay without the person; the email and phone stay suppressed
// as hashes. Privacy officers; audited by internal id.
func (s *Service) EraseMember(ctx context.Context, actor campaigns.User, externalID string) (int64, error) {
	if err := allow(actor, "erase a member", campaigns.RolePrivacy); err != nil {
		return 0, err
	}
	if err := checkText("external_id", externalID); err != nil {
		return 0, err
	}
	return s.store.EraseMember(ctx, externalID, entry(actor, campaigns.AuditMembersErase))
}

// ReadmitMember lets an erased member's external id be imported again: the deliberate step when the
// person signs up anew (an import alone never brings an erased member back). Privacy officers.
func (s *Service) ReadmitMember(ctx context.Context, actor campaigns.User, externalID string) error {
	if err := allow(actor, "readmit an erased member", campaigns.RolePrivacy); err != nil {
		return err
	}
	if err := checkText("external_id", externalID); err != nil {
		return err
	}
	return s.store.ReadmitMember(ctx, externalID, entry(actor, campaigns.AuditMembersReadmit).With("external_id", externalID))
}

// SetConsent records a consent event for a member (postal withdrawn = objection to postal
// marketing) and returns it; ErrNotFound for an unknown member. Privacy officers; audited.
func (s *Service) SetConsent(ctx context.Context, actor campaigns.User, externalID string, c campaigns.ConsentChange) (campaigns.ConsentEvent, error) {
	if err := allow(actor, "change a consent", campaigns.RolePrivacy); err != nil {
		return campaigns.ConsentEvent{}, err
	}
	if err := checkText("external_id", externalID); err != nil {
		return campaigns.ConsentEvent{}, err
	}
	if err := checkText("wording_version", c.WordingVersion); err != nil {
		return campaigns.ConsentEvent{}, err
	}
	a := entry(actor, campaigns.AuditConsentSet).With("channel", c.Channel).With("status", c.Status).With("source", c.Source)
	return s.store.RecordConsent(ctx, externalID, c, a)
}
