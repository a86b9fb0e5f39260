-- camundabpmn: the Camunda 7 engine database used by SO's BPMN infra, reduced,
-- for MariaDB 10.11.
--
-- Derived from Camunda 7's create scripts for MySQL/MariaDB
-- (camunda/camunda-bpm-platform, engine/src/main/resources/org/camunda/bpm/
-- engine/db/create/activiti.mariadb.create.engine.sql and
-- activiti.mariadb.create.history.sql, 7.16 line; the MySQL scripts differ
-- only in older releases' timestamp precision). Column names, types
-- (LONGBLOB, DOUBLE, DATETIME(3), TIMESTAMP(3), TINYINT flags, BOOLEAN),
-- the utf8 (utf8mb3) binary collation and the foreign keys, with the
-- ON DELETE CASCADE of ACT_FK_EXE_PROCINST and of the incident cause keys,
-- are the real ones. Constraints and indexes that Camunda adds with ALTER
-- TABLE / CREATE INDEX are declared inline here, so every statement is a
-- CREATE TABLE, and tables come in an order where every parent exists first.
--
-- Kept: what deploying a process and running it through the job executor
-- touches (properties, byte arrays, deployments, process and job
-- definitions, executions, jobs, variables, incidents) and the history of
-- process instances, activities, variables, jobs and incidents.
-- Left out: the seed rows of ACT_GE_PROPERTY (the workload writes them),
-- ACT_GE_SCHEMA_LOG, user tasks and identity links, event subscriptions,
-- external tasks, batches, filters, authorizations, meters, the case (CMMN)
-- and decision (DMN) engines, the identity service (ACT_ID_*), the other
-- history tables (ACT_HI_TASKINST, ACT_HI_DETAIL, ACT_HI_OP_LOG ...), and the
-- secondary indexes not needed by the job acquisition query.
--
-- Only CREATE TABLE IF NOT EXISTS statements: the file is loaded statement
-- by statement through the mdbc_py driver into whatever database the range
-- uses, so each statement becomes one DDL entry of the range's log.

CREATE TABLE IF NOT EXISTS `ACT_GE_PROPERTY` (
  `NAME_` varchar(64),
  `VALUE_` varchar(300),
  `REV_` integer,
  PRIMARY KEY (`NAME_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_RE_DEPLOYMENT` (
  `ID_` varchar(64),
  `NAME_` varchar(255),
  `DEPLOY_TIME_` datetime(3),
  `SOURCE_` varchar(255),
  `TENANT_ID_` varchar(64),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_DEPLOYMENT_NAME` (`NAME_`),
  KEY `ACT_IDX_DEPLOYMENT_TENANT_ID` (`TENANT_ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_GE_BYTEARRAY` (
  `ID_` varchar(64),
  `REV_` integer,
  `NAME_` varchar(255),
  `DEPLOYMENT_ID_` varchar(64),
  `BYTES_` LONGBLOB,
  `GENERATED_` TINYINT,
  `TENANT_ID_` varchar(64),
  `TYPE_` integer,
  `CREATE_TIME_` datetime(3),
  `ROOT_PROC_INST_ID_` varchar(64),
  `REMOVAL_TIME_` datetime(3),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_BYTEARRAY_NAME` (`NAME_`),
  CONSTRAINT `ACT_FK_BYTEARR_DEPL`
    FOREIGN KEY (`DEPLOYMENT_ID_`) REFERENCES `ACT_RE_DEPLOYMENT` (`ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_RE_PROCDEF` (
  `ID_` varchar(64) NOT NULL,
  `REV_` integer,
  `CATEGORY_` varchar(255),
  `NAME_` varchar(255),
  `KEY_` varchar(255) NOT NULL,
  `VERSION_` integer NOT NULL,
  `DEPLOYMENT_ID_` varchar(64),
  `RESOURCE_NAME_` varchar(4000),
  `DGRM_RESOURCE_NAME_` varchar(4000),
  `HAS_START_FORM_KEY_` TINYINT,
  `SUSPENSION_STATE_` integer,
  `TENANT_ID_` varchar(64),
  `VERSION_TAG_` varchar(64),
  `HISTORY_TTL_` integer,
  `STARTABLE_` boolean NOT NULL DEFAULT TRUE,
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_PROCDEF_DEPLOYMENT_ID` (`DEPLOYMENT_ID_`),
  KEY `ACT_IDX_PROCDEF_TENANT_ID` (`TENANT_ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_RU_JOBDEF` (
  `ID_` varchar(64) NOT NULL,
  `REV_` integer,
  `PROC_DEF_ID_` varchar(64),
  `PROC_DEF_KEY_` varchar(255),
  `ACT_ID_` varchar(255),
  `JOB_TYPE_` varchar(255) NOT NULL,
  `JOB_CONFIGURATION_` varchar(255),
  `SUSPENSION_STATE_` integer,
  `JOB_PRIORITY_` bigint,
  `TENANT_ID_` varchar(64),
  `DEPLOYMENT_ID_` varchar(64),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_JOBDEF_TENANT_ID` (`TENANT_ID_`),
  KEY `ACT_IDX_JOBDEF_PROC_DEF_ID` (`PROC_DEF_ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_RU_EXECUTION` (
  `ID_` varchar(64),
  `REV_` integer,
  `ROOT_PROC_INST_ID_` varchar(64),
  `PROC_INST_ID_` varchar(64),
  `BUSINESS_KEY_` varchar(255),
  `PARENT_ID_` varchar(64),
  `PROC_DEF_ID_` varchar(64),
  `SUPER_EXEC_` varchar(64),
  `SUPER_CASE_EXEC_` varchar(64),
  `CASE_INST_ID_` varchar(64),
  `ACT_ID_` varchar(255),
  `ACT_INST_ID_` varchar(64),
  `IS_ACTIVE_` TINYINT,
  `IS_CONCURRENT_` TINYINT,
  `IS_SCOPE_` TINYINT,
  `IS_EVENT_SCOPE_` TINYINT,
  `SUSPENSION_STATE_` integer,
  `CACHED_ENT_STATE_` integer,
  `SEQUENCE_COUNTER_` bigint,
  `TENANT_ID_` varchar(64),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_EXEC_ROOT_PI` (`ROOT_PROC_INST_ID_`),
  KEY `ACT_IDX_EXEC_BUSKEY` (`BUSINESS_KEY_`),
  KEY `ACT_IDX_EXEC_TENANT_ID` (`TENANT_ID_`),
  CONSTRAINT `ACT_FK_EXE_PROCINST`
    FOREIGN KEY (`PROC_INST_ID_`) REFERENCES `ACT_RU_EXECUTION` (`ID_`)
    ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `ACT_FK_EXE_PARENT`
    FOREIGN KEY (`PARENT_ID_`) REFERENCES `ACT_RU_EXECUTION` (`ID_`),
  CONSTRAINT `ACT_FK_EXE_SUPER`
    FOREIGN KEY (`SUPER_EXEC_`) REFERENCES `ACT_RU_EXECUTION` (`ID_`),
  CONSTRAINT `ACT_FK_EXE_PROCDEF`
    FOREIGN KEY (`PROC_DEF_ID_`) REFERENCES `ACT_RE_PROCDEF` (`ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_RU_JOB` (
  `ID_` varchar(64) NOT NULL,
  `REV_` integer,
  `TYPE_` varchar(255) NOT NULL,
  `LOCK_EXP_TIME_` datetime(3) NULL,
  `LOCK_OWNER_` varchar(255),
  `EXCLUSIVE_` boolean,
  `EXECUTION_ID_` varchar(64),
  `PROCESS_INSTANCE_ID_` varchar(64),
  `PROCESS_DEF_ID_` varchar(64),
  `PROCESS_DEF_KEY_` varchar(255),
  `RETRIES_` integer,
  `EXCEPTION_STACK_ID_` varchar(64),
  `EXCEPTION_MSG_` varchar(4000),
  `FAILED_ACT_ID_` varchar(255),
  `DUEDATE_` datetime(3) NULL,
  `REPEAT_` varchar(255),
  `REPEAT_OFFSET_` bigint DEFAULT 0,
  `HANDLER_TYPE_` varchar(255),
  `HANDLER_CFG_` varchar(4000),
  `DEPLOYMENT_ID_` varchar(64),
  `SUSPENSION_STATE_` integer NOT NULL DEFAULT 1,
  `JOB_DEF_ID_` varchar(64),
  `PRIORITY_` bigint NOT NULL DEFAULT 0,
  `SEQUENCE_COUNTER_` bigint,
  `TENANT_ID_` varchar(64),
  `CREATE_TIME_` datetime(3),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_JOB_EXECUTION_ID` (`EXECUTION_ID_`),
  KEY `ACT_IDX_JOB_HANDLER` (`HANDLER_TYPE_`(100), `HANDLER_CFG_`(155)),
  KEY `ACT_IDX_JOB_PROCINST` (`PROCESS_INSTANCE_ID_`),
  KEY `ACT_IDX_JOB_TENANT_ID` (`TENANT_ID_`),
  KEY `ACT_IDX_JOB_JOB_DEF_ID` (`JOB_DEF_ID_`),
  KEY `ACT_IDX_JOB_HANDLER_TYPE` (`HANDLER_TYPE_`),
  CONSTRAINT `ACT_FK_JOB_EXCEPTION`
    FOREIGN KEY (`EXCEPTION_STACK_ID_`) REFERENCES `ACT_GE_BYTEARRAY` (`ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_RU_VARIABLE` (
  `ID_` varchar(64) NOT NULL,
  `REV_` integer,
  `TYPE_` varchar(255) NOT NULL,
  `NAME_` varchar(255) NOT NULL,
  `EXECUTION_ID_` varchar(64),
  `PROC_INST_ID_` varchar(64),
  `PROC_DEF_ID_` varchar(64),
  `CASE_EXECUTION_ID_` varchar(64),
  `CASE_INST_ID_` varchar(64),
  `TASK_ID_` varchar(64),
  `BATCH_ID_` varchar(64),
  `BYTEARRAY_ID_` varchar(64),
  `DOUBLE_` double,
  `LONG_` bigint,
  `TEXT_` varchar(4000),
  `TEXT2_` varchar(4000),
  `VAR_SCOPE_` varchar(64) NOT NULL,
  `SEQUENCE_COUNTER_` bigint,
  `IS_CONCURRENT_LOCAL_` TINYINT,
  `TENANT_ID_` varchar(64),
  PRIMARY KEY (`ID_`),
  UNIQUE KEY `ACT_UNIQ_VARIABLE` (`VAR_SCOPE_`, `NAME_`),
  KEY `ACT_IDX_VARIABLE_TASK_ID` (`TASK_ID_`),
  KEY `ACT_IDX_VARIABLE_TENANT_ID` (`TENANT_ID_`),
  KEY `ACT_IDX_VARIABLE_TASK_NAME_TYPE` (`TASK_ID_`, `NAME_`, `TYPE_`),
  CONSTRAINT `ACT_FK_VAR_EXE`
    FOREIGN KEY (`EXECUTION_ID_`) REFERENCES `ACT_RU_EXECUTION` (`ID_`),
  CONSTRAINT `ACT_FK_VAR_PROCINST`
    FOREIGN KEY (`PROC_INST_ID_`) REFERENCES `ACT_RU_EXECUTION` (`ID_`),
  CONSTRAINT `ACT_FK_VAR_BYTEARRAY`
    FOREIGN KEY (`BYTEARRAY_ID_`) REFERENCES `ACT_GE_BYTEARRAY` (`ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_RU_INCIDENT` (
  `ID_` varchar(64) NOT NULL,
  `REV_` integer NOT NULL,
  `INCIDENT_TIMESTAMP_` datetime(3) NOT NULL,
  `INCIDENT_MSG_` varchar(4000),
  `INCIDENT_TYPE_` varchar(255) NOT NULL,
  `EXECUTION_ID_` varchar(64),
  `ACTIVITY_ID_` varchar(255),
  `FAILED_ACTIVITY_ID_` varchar(255),
  `PROC_INST_ID_` varchar(64),
  `PROC_DEF_ID_` varchar(64),
  `CAUSE_INCIDENT_ID_` varchar(64),
  `ROOT_CAUSE_INCIDENT_ID_` varchar(64),
  `CONFIGURATION_` varchar(255),
  `TENANT_ID_` varchar(64),
  `JOB_DEF_ID_` varchar(64),
  `ANNOTATION_` varchar(4000),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_INC_CONFIGURATION` (`CONFIGURATION_`),
  KEY `ACT_IDX_INC_TENANT_ID` (`TENANT_ID_`),
  KEY `ACT_IDX_INC_JOB_DEF` (`JOB_DEF_ID_`),
  KEY `ACT_IDX_INC_CAUSEINCID` (`CAUSE_INCIDENT_ID_`),
  KEY `ACT_IDX_INC_EXID` (`EXECUTION_ID_`),
  KEY `ACT_IDX_INC_PROCDEFID` (`PROC_DEF_ID_`),
  KEY `ACT_IDX_INC_PROCINSTID` (`PROC_INST_ID_`),
  KEY `ACT_IDX_INC_ROOTCAUSEINCID` (`ROOT_CAUSE_INCIDENT_ID_`),
  CONSTRAINT `ACT_FK_INC_EXE`
    FOREIGN KEY (`EXECUTION_ID_`) REFERENCES `ACT_RU_EXECUTION` (`ID_`),
  CONSTRAINT `ACT_FK_INC_PROCINST`
    FOREIGN KEY (`PROC_INST_ID_`) REFERENCES `ACT_RU_EXECUTION` (`ID_`),
  CONSTRAINT `ACT_FK_INC_PROCDEF`
    FOREIGN KEY (`PROC_DEF_ID_`) REFERENCES `ACT_RE_PROCDEF` (`ID_`),
  CONSTRAINT `ACT_FK_INC_CAUSE`
    FOREIGN KEY (`CAUSE_INCIDENT_ID_`) REFERENCES `ACT_RU_INCIDENT` (`ID_`)
    ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `ACT_FK_INC_RCAUSE`
    FOREIGN KEY (`ROOT_CAUSE_INCIDENT_ID_`) REFERENCES `ACT_RU_INCIDENT` (`ID_`)
    ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `ACT_FK_INC_JOB_DEF`
    FOREIGN KEY (`JOB_DEF_ID_`) REFERENCES `ACT_RU_JOBDEF` (`ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_HI_PROCINST` (
  `ID_` varchar(64) NOT NULL,
  `PROC_INST_ID_` varchar(64) NOT NULL,
  `BUSINESS_KEY_` varchar(255),
  `PROC_DEF_KEY_` varchar(255),
  `PROC_DEF_ID_` varchar(64) NOT NULL,
  `START_TIME_` datetime(3) NOT NULL,
  `END_TIME_` datetime(3),
  `REMOVAL_TIME_` datetime(3),
  `DURATION_` bigint,
  `START_USER_ID_` varchar(255),
  `START_ACT_ID_` varchar(255),
  `END_ACT_ID_` varchar(255),
  `SUPER_PROCESS_INSTANCE_ID_` varchar(64),
  `ROOT_PROC_INST_ID_` varchar(64),
  `SUPER_CASE_INSTANCE_ID_` varchar(64),
  `CASE_INST_ID_` varchar(64),
  `DELETE_REASON_` varchar(4000),
  `TENANT_ID_` varchar(64),
  `STATE_` varchar(255),
  PRIMARY KEY (`ID_`),
  UNIQUE KEY (`PROC_INST_ID_`),
  KEY `ACT_IDX_HI_PRO_INST_END` (`END_TIME_`),
  KEY `ACT_IDX_HI_PRO_I_BUSKEY` (`BUSINESS_KEY_`),
  KEY `ACT_IDX_HI_PRO_INST_PROC_DEF_KEY` (`PROC_DEF_KEY_`),
  KEY `ACT_IDX_HI_PRO_INST_ROOT_PI` (`ROOT_PROC_INST_ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_HI_ACTINST` (
  `ID_` varchar(64) NOT NULL,
  `PARENT_ACT_INST_ID_` varchar(64),
  `PROC_DEF_KEY_` varchar(255),
  `PROC_DEF_ID_` varchar(64) NOT NULL,
  `ROOT_PROC_INST_ID_` varchar(64),
  `PROC_INST_ID_` varchar(64) NOT NULL,
  `EXECUTION_ID_` varchar(64) NOT NULL,
  `ACT_ID_` varchar(255) NOT NULL,
  `TASK_ID_` varchar(64),
  `CALL_PROC_INST_ID_` varchar(64),
  `CALL_CASE_INST_ID_` varchar(64),
  `ACT_NAME_` varchar(255),
  `ACT_TYPE_` varchar(255) NOT NULL,
  `ASSIGNEE_` varchar(64),
  `START_TIME_` datetime(3) NOT NULL,
  `END_TIME_` datetime(3),
  `DURATION_` bigint,
  `ACT_INST_STATE_` integer,
  `SEQUENCE_COUNTER_` bigint,
  `TENANT_ID_` varchar(64),
  `REMOVAL_TIME_` datetime(3),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_HI_ACTINST_ROOT_PI` (`ROOT_PROC_INST_ID_`),
  KEY `ACT_IDX_HI_ACT_INST_PROCINST` (`PROC_INST_ID_`, `ACT_ID_`),
  KEY `ACT_IDX_HI_ACT_INST_COMP` (`EXECUTION_ID_`, `ACT_ID_`, `END_TIME_`, `ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_HI_VARINST` (
  `ID_` varchar(64) NOT NULL,
  `PROC_DEF_KEY_` varchar(255),
  `PROC_DEF_ID_` varchar(64),
  `ROOT_PROC_INST_ID_` varchar(64),
  `PROC_INST_ID_` varchar(64),
  `EXECUTION_ID_` varchar(64),
  `ACT_INST_ID_` varchar(64),
  `CASE_DEF_KEY_` varchar(255),
  `CASE_DEF_ID_` varchar(64),
  `CASE_INST_ID_` varchar(64),
  `CASE_EXECUTION_ID_` varchar(64),
  `TASK_ID_` varchar(64),
  `NAME_` varchar(255) NOT NULL,
  `VAR_TYPE_` varchar(100),
  `CREATE_TIME_` datetime(3),
  `REV_` integer,
  `BYTEARRAY_ID_` varchar(64),
  `DOUBLE_` double,
  `LONG_` bigint,
  `TEXT_` varchar(4000),
  `TEXT2_` varchar(4000),
  `TENANT_ID_` varchar(64),
  `STATE_` varchar(20),
  `REMOVAL_TIME_` datetime(3),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_HI_VARINST_ROOT_PI` (`ROOT_PROC_INST_ID_`),
  KEY `ACT_IDX_HI_PROCVAR_PROC_INST` (`PROC_INST_ID_`),
  KEY `ACT_IDX_HI_PROCVAR_NAME_TYPE` (`NAME_`, `VAR_TYPE_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_HI_JOB_LOG` (
  `ID_` varchar(64) NOT NULL,
  `TIMESTAMP_` datetime(3) NOT NULL,
  `JOB_ID_` varchar(64) NOT NULL,
  `JOB_DUEDATE_` datetime(3) NULL,
  `JOB_RETRIES_` integer,
  `JOB_PRIORITY_` bigint NOT NULL DEFAULT 0,
  `JOB_EXCEPTION_MSG_` varchar(4000),
  `JOB_EXCEPTION_STACK_ID_` varchar(64),
  `JOB_STATE_` integer,
  `JOB_DEF_ID_` varchar(64),
  `JOB_DEF_TYPE_` varchar(255),
  `JOB_DEF_CONFIGURATION_` varchar(255),
  `ACT_ID_` varchar(255),
  `ROOT_PROC_INST_ID_` varchar(64),
  `EXECUTION_ID_` varchar(64),
  `PROCESS_INSTANCE_ID_` varchar(64),
  `PROCESS_DEF_ID_` varchar(64),
  `PROCESS_DEF_KEY_` varchar(255),
  `DEPLOYMENT_ID_` varchar(64),
  `SEQUENCE_COUNTER_` bigint,
  `TENANT_ID_` varchar(64),
  `REMOVAL_TIME_` datetime(3),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_HI_JOB_LOG_ROOT_PI` (`ROOT_PROC_INST_ID_`),
  KEY `ACT_IDX_HI_JOB_LOG_PROCINST` (`PROCESS_INSTANCE_ID_`),
  KEY `ACT_IDX_HI_JOB_LOG_JOB_DEF_ID` (`JOB_DEF_ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;

CREATE TABLE IF NOT EXISTS `ACT_HI_INCIDENT` (
  `ID_` varchar(64) NOT NULL,
  `PROC_DEF_KEY_` varchar(255),
  `PROC_DEF_ID_` varchar(64),
  `ROOT_PROC_INST_ID_` varchar(64),
  `PROC_INST_ID_` varchar(64),
  `EXECUTION_ID_` varchar(64),
  `CREATE_TIME_` timestamp(3) NOT NULL,
  `END_TIME_` timestamp(3) NULL,
  `INCIDENT_MSG_` varchar(4000),
  `INCIDENT_TYPE_` varchar(255) NOT NULL,
  `ACTIVITY_ID_` varchar(255),
  `CAUSE_INCIDENT_ID_` varchar(64),
  `ROOT_CAUSE_INCIDENT_ID_` varchar(64),
  `CONFIGURATION_` varchar(255),
  `INCIDENT_STATE_` integer,
  `TENANT_ID_` varchar(64),
  `JOB_DEF_ID_` varchar(64),
  `REMOVAL_TIME_` datetime(3),
  PRIMARY KEY (`ID_`),
  KEY `ACT_IDX_HI_INCIDENT_PROC_DEF_KEY` (`PROC_DEF_KEY_`),
  KEY `ACT_IDX_HI_INCIDENT_ROOT_PI` (`ROOT_PROC_INST_ID_`),
  KEY `ACT_IDX_HI_INCIDENT_PROCINST` (`PROC_INST_ID_`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin;
