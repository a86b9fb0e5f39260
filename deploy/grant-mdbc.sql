-- The account the agents and the driver use (READ ONLY ADMIN lets replay write
-- while the site runs read_only). Change the password together with mdbc.toml.
CREATE USER IF NOT EXISTS 'mdbc'@'%' IDENTIFIED BY 'change-me';
GRANT ALL PRIVILEGES ON *.* TO 'mdbc'@'%' WITH GRANT OPTION;
