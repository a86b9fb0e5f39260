-- What the `mdbc` account needs at every site's MariaDB, and nothing more.
--
-- The account itself is created with its password by whoever provisions the server
-- (docker-compose.yml: the image's MARIADB_USER/MARIADB_PASSWORD; Kubernetes: your
-- MariaDB chart), so no password is written here. Run this as an administrator;
-- replace the three SO databases by your application's if they differ.
--
-- The application's databases: the driver runs the application's statements (DML
-- and the DDL of its migrations) and installs the capture triggers; replay applies
-- the same rows and DDL at replicas.
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES,
      CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE,
      CREATE TEMPORARY TABLES, LOCK TABLES, TRIGGER
  ON `catalogdb`.* TO 'mdbc'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES,
      CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE,
      CREATE TEMPORARY TABLES, LOCK TABLES, TRIGGER
  ON `camundabpmn`.* TO 'mdbc'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES,
      CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE,
      CREATE TEMPORARY TABLES, LOCK TABLES, TRIGGER
  ON `requestdb`.* TO 'mdbc'@'%';
-- The capture's stage databases (mdbc_stage_<db>): staged row images, read and
-- cleared at commit, recreated after DDL (README: "Using the driver"). A database
-- whose name is longer than 53 characters gets a shortened stage database
-- (mdbc_stagex_<prefix>_<hash>) that this pattern does not match: `mdbc init`
-- names the GRANT it needs. LOCK TABLES: regenerating a shadow after a DDL locks
-- the table and its shadow together, so that no writer stages in between.
GRANT SELECT, INSERT, DELETE, CREATE, DROP, ALTER, LOCK TABLES ON `mdbc\_stage\_%`.* TO 'mdbc'@'%';
-- mdbc's own bookkeeping (applied positions, site state), written in the same
-- local transaction as the data it covers.
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER ON `mdbc`.* TO 'mdbc'@'%';
-- Replicas run with read_only=ON: replay writes through it, and the agent turns
-- read_only off at a new owner and on at the old one.
GRANT READ_ONLY ADMIN ON *.* TO 'mdbc'@'%';
