package worker

// What the external tests (package worker_test) need to see of the worker's unexported parts.
var (
	// ErrLeased is errLeased: another worker holds the batch.
	ErrLeased = errLeased
	// ErrStopping is errStopping: the batch was given back after Stop.
	ErrStopping = errStopping
	// ErrorHandler is the asynq error handler Serve installs.
	ErrorHandler = errorHandler
)
