package api

func (c *console) auditRoutes() {}
