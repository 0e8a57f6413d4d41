SELECT count(*) FROM tenancy.check();
