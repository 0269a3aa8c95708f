package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/jacksmood/dispatch/campaigns"
)

// registerKey is the key of the register's hashes as the SQL side of HMAC-SHA256 needs it: the key
// block xor'ed with the inner and the outer pad (see migrations/0010_keyed_hashes.sql).
type registerKey struct {
	ipad, opad []byte
}

// fingerprintText is what the stored fingerprint is the HMAC of.
const fingerprintText = "dispatch register key fingerprint v1"

func newRegisterKey(key []byte) *registerKey {
	const block = sha256.BlockSize
	if len(key) > block {
		sum := sha256.Sum256(key)
		key = sum[:]
	}
	k := make([]byte, block)
	copy(k, key)
	r := &registerKey{ipad: make([]byte, block), opad: make([]byte, block)}
	for i, b := range k {
		r.ipad[i] = b ^ 0x36
		r.opad[i] = b ^ 0x5c
	}
	return r
}

// RegisterKeyFingerprint is what the database keeps of key: an HMAC of a fixed text, from which the
// key cannot be recovered.
func RegisterKeyFingerprint(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fingerprintText))
	return m.Sum(nil)
}

// SetRegisterKey gives the store the key of its keyed hashes (the suppression list, erased members'
// ids, the members' comparison keys), which the database does not hold. It does not touch the
// database: the key is adopted or checked by AdoptRegisterKey, or by the first change that needs it.
func (s *Store) SetRegisterKey(key []byte) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	s.pendingKey = append([]byte(nil), key...)
	s.key.Store(nil)
}

// AdoptRegisterKey checks the key given to SetRegisterKey against the register. The first key a
// register is given is adopted: in one transaction, every hash written before keyed hashes existed
// is converted (an HMAC over the old digest, so no address is needed) and the key's fingerprint is
// recorded. A register adopted with another key is refused with campaigns.ErrRegisterKeyMismatch:
// comparing addresses with hashes of another key would never match, and a member on the ban list
// would be marketed to. Without a key it returns campaigns.ErrNoRegisterKey.
func (s *Store) AdoptRegisterKey(ctx context.Context) error {
	_, err := s.registerKey(ctx)
	return err
}

// registerKey returns the adopted key's pads, adopting the key first if need be.
func (s *Store) registerKey(ctx context.Context) (*registerKey, error) {
	if k := s.key.Load(); k != nil {
		return k, nil
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if k := s.key.Load(); k != nil {
		return k, nil
	}
	if len(s.pendingKey) == 0 {
		return nil, campaigns.ErrNoRegisterKey
	}
	if err := s.adopt(ctx, s.pendingKey); err != nil {
		return nil, err
	}
	k := newRegisterKey(s.pendingKey)
	s.key.Store(k)
	return k, nil
}

func (s *Store) adopt(ctx context.Context, key []byte) error {
	rk := newRegisterKey(key)
	fp := RegisterKeyFingerprint(key)
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var stored []byte
		err := tx.GetContext(ctx, &stored, s.q("register-key-fingerprint"))
		if err == nil {
			if !hmac.Equal(stored, fp) {
				return campaigns.ErrRegisterKeyMismatch
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("register key: %w", err)
		}
		// No fingerprint yet: adopt this key. The exclusive locks keep every writer of a hash out
		// until the conversion is committed; a second process adopting at the same time waits,
		// then finds the fingerprint.
		if _, err := tx.ExecContext(ctx, s.q("register-key-lock")); err != nil {
			return fmt.Errorf("register key: %w", err)
		}
		err = tx.GetContext(ctx, &stored, s.q("register-key-fingerprint"))
		if err == nil {
			if !hmac.Equal(stored, fp) {
				return campaigns.ErrRegisterKeyMismatch
			}
			return nil
		}
		for _, name := range []string{"register-key-convert-suppressions", "register-key-convert-erased", "register-key-convert-members"} {
			if _, err := tx.ExecContext(ctx, s.q(name), rk.ipad, rk.opad); err != nil {
				return fmt.Errorf("register key: %s: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("register-key-adopt"), fp); err != nil {
			return fmt.Errorf("register key: %w", err)
		}
		return nil
	})
}
