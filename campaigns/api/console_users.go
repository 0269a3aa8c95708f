package api

func (c *console) userRoutes() {}
