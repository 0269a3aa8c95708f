package service

// AudienceStore is what the segment's size needs of the store.
type AudienceStore interface{}
