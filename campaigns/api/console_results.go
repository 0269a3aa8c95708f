package api

func (c *console) resultsRoutes() {}
