package postgres

// QueryText returns the text of a named query, for tests that run it inside a transaction of their
// own (to read that transaction's statistics).
func (s *Store) QueryText(name string) string { return s.q(name) }
