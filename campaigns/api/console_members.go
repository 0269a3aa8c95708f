package api

func (c *console) memberRoutes() {}
