package api

func (c *console) campaignEditRoutes() {}
