package service

// ResultsStore is what a run's results need of the store.
type ResultsStore interface{}
