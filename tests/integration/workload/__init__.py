"""The SO schemas and the SO workload over real sites, agents and Cassandra."""
