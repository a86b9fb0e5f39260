-- requestdb: the ONAP SO Request DB, reduced, for MariaDB 10.11.
--
-- Derived from the Flyway migrations of the SO request DB adapter
-- (onap/so, adapters/mso-requests-db-adapter/src/main/resources/db/migration,
-- V1__Base_version.sql up to V8.4): each table is written here in the shape
-- the migrations leave it in (columns added, renamed, resized and dropped up
-- to V8.4 applied), with the real column names, types and latin1 charset.
--
-- Kept: the tables the API handler and the BPMN flows of a "create service
-- instance" request write (infra_active_requests, request_processing_data,
-- operation_status, resource_operation_status, orchestration_task), the
-- site_status table (BIT(1)) and the watchdog distribution tables (a foreign
-- key with ON DELETE CASCADE).
-- Left out: archived_infra_requests (a copy of infra_active_requests filled
-- by an archiving job), the operational-environment activation tables,
-- shedlock, instance_nfvo_mapping, cloud_api_requests, the dropped
-- active_requests table, the secondary indexes of V6.4 except a few the
-- workload queries by, and every data migration (UPDATE/DELETE scripts).
--
-- Only CREATE TABLE IF NOT EXISTS statements: the file is loaded statement
-- by statement through the mdbc_py driver into whatever database the range
-- uses, so each statement becomes one DDL entry of the range's log.

CREATE TABLE IF NOT EXISTS `infra_active_requests` (
  `REQUEST_ID` varchar(45) NOT NULL,
  `CLIENT_REQUEST_ID` varchar(45) DEFAULT NULL,
  `REQUEST_STATUS` varchar(25) DEFAULT NULL,
  `STATUS_MESSAGE` longtext,
  `PROGRESS` bigint(20) DEFAULT NULL,
  `START_TIME` datetime DEFAULT NULL,
  `END_TIME` datetime DEFAULT NULL,
  `SOURCE` varchar(45) DEFAULT NULL,
  `VNF_ID` varchar(45) DEFAULT NULL,
  `VNF_NAME` varchar(80) DEFAULT NULL,
  `VNF_TYPE` varchar(200) DEFAULT NULL,
  `SERVICE_TYPE` varchar(45) DEFAULT NULL,
  `AIC_NODE_CLLI` varchar(45) DEFAULT NULL,
  `TENANT_ID` varchar(45) DEFAULT NULL,
  `VNF_PARAMS` longtext,
  `VNF_OUTPUTS` longtext,
  `REQUEST_BODY` longtext,
  `RESPONSE_BODY` longtext,
  `LAST_MODIFIED_BY` varchar(100) DEFAULT NULL,
  `MODIFY_TIME` datetime DEFAULT NULL,
  `VOLUME_GROUP_ID` varchar(45) DEFAULT NULL,
  `VOLUME_GROUP_NAME` varchar(45) DEFAULT NULL,
  `VF_MODULE_ID` varchar(45) DEFAULT NULL,
  `VF_MODULE_NAME` varchar(200) DEFAULT NULL,
  `VF_MODULE_MODEL_NAME` varchar(200) DEFAULT NULL,
  `CLOUD_REGION` varchar(50) DEFAULT NULL,
  `CALLBACK_URL` varchar(200) DEFAULT NULL,
  `CORRELATOR` varchar(80) DEFAULT NULL,
  `NETWORK_ID` varchar(45) DEFAULT NULL,
  `NETWORK_NAME` varchar(80) DEFAULT NULL,
  `NETWORK_TYPE` varchar(80) DEFAULT NULL,
  `REQUEST_SCOPE` varchar(50) NOT NULL,
  `REQUEST_ACTION` varchar(45) NOT NULL DEFAULT 'unknown',
  `SERVICE_INSTANCE_ID` varchar(45) DEFAULT NULL,
  `SERVICE_INSTANCE_NAME` varchar(80) DEFAULT NULL,
  `REQUESTOR_ID` varchar(50) DEFAULT NULL,
  `CONFIGURATION_ID` varchar(45) DEFAULT NULL,
  `CONFIGURATION_NAME` varchar(200) DEFAULT NULL,
  `OPERATIONAL_ENV_ID` varchar(45) DEFAULT NULL,
  `OPERATIONAL_ENV_NAME` varchar(200) DEFAULT NULL,
  `REQUEST_URL` varchar(500) DEFAULT NULL,
  `ROLLBACK_STATUS_MESSAGE` longtext,
  `FLOW_STATUS` longtext,
  `RETRY_STATUS_MESSAGE` longtext,
  `INSTANCE_GROUP_ID` varchar(45) DEFAULT NULL,
  `INSTANCE_GROUP_NAME` varchar(200) DEFAULT NULL,
  `ORIGINAL_REQUEST_ID` varchar(45) DEFAULT NULL,
  `EXT_SYSTEM_ERROR_SOURCE` varchar(80) DEFAULT NULL,
  `ROLLBACK_EXT_SYSTEM_ERROR_SOURCE` varchar(80) DEFAULT NULL,
  `RESOURCE_STATUS_MESSAGE` longtext,
  `PNF_NAME` varchar(45) DEFAULT NULL,
  `TENANT_NAME` varchar(200) DEFAULT NULL,
  `PRODUCT_FAMILY_NAME` varchar(200) DEFAULT NULL,
  `WORKFLOW_NAME` varchar(200) DEFAULT NULL,
  `OPERATION_NAME` varchar(200) DEFAULT NULL,
  PRIMARY KEY (`REQUEST_ID`),
  UNIQUE KEY `UK_bhu6w8p7wvur4pin0gjw2d5ak` (`CLIENT_REQUEST_ID`),
  KEY `infra_active_requests__service_instance_id_idx` (`SERVICE_INSTANCE_ID`),
  KEY `infra_active_requests__request_scope_idx` (`REQUEST_SCOPE`),
  KEY `infra_active_requests__start_time_idx` (`START_TIME`),
  KEY `infra_active_requests__end_time_idx` (`END_TIME`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE IF NOT EXISTS `request_processing_data` (
  `ID` int(11) NOT NULL AUTO_INCREMENT,
  `SO_REQUEST_ID` varchar(50) NOT NULL,
  `GROUPING_ID` varchar(100) DEFAULT NULL,
  `NAME` varchar(200) NOT NULL,
  `VALUE` longtext,
  `TAG` varchar(200) NOT NULL,
  `CREATE_TIME` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `IS_DATA_INTERNAL` bit(1) NOT NULL DEFAULT b'0',
  PRIMARY KEY (`ID`),
  UNIQUE KEY `UK_request_processing_data` (`SO_REQUEST_ID`, `GROUPING_ID`, `TAG`, `NAME`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE IF NOT EXISTS `operation_status` (
  `SERVICE_ID` varchar(255) NOT NULL,
  `OPERATION_ID` varchar(255) NOT NULL,
  `SERVICE_NAME` varchar(255) DEFAULT NULL,
  `OPERATION_TYPE` varchar(255) DEFAULT NULL,
  `USER_ID` varchar(255) DEFAULT NULL,
  `RESULT` varchar(255) DEFAULT NULL,
  `OPERATION_CONTENT` varchar(255) DEFAULT NULL,
  `PROGRESS` varchar(255) DEFAULT NULL,
  `REASON` varchar(255) DEFAULT NULL,
  `OPERATE_AT` datetime DEFAULT NULL,
  `FINISHED_AT` datetime DEFAULT NULL,
  PRIMARY KEY (`SERVICE_ID`, `OPERATION_ID`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE IF NOT EXISTS `resource_operation_status` (
  `SERVICE_ID` varchar(255) NOT NULL,
  `OPERATION_ID` varchar(255) NOT NULL,
  `RESOURCE_TEMPLATE_UUID` varchar(255) NOT NULL,
  `OPER_TYPE` varchar(255) DEFAULT NULL,
  `RESOURCE_INSTANCE_ID` varchar(255) DEFAULT NULL,
  `JOB_ID` varchar(255) DEFAULT NULL,
  `STATUS` varchar(255) DEFAULT NULL,
  `PROGRESS` varchar(255) DEFAULT NULL,
  `ERROR_CODE` varchar(255) DEFAULT NULL,
  `STATUS_DESCRIPOTION` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`SERVICE_ID`, `OPERATION_ID`, `RESOURCE_TEMPLATE_UUID`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE IF NOT EXISTS `orchestration_task` (
  `TASK_ID` varchar(200) NOT NULL,
  `REQUEST_ID` varchar(200) NOT NULL,
  `NAME` varchar(200) NOT NULL,
  `CREATED_TIME` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `STATUS` varchar(200) NOT NULL,
  `IS_MANUAL` varchar(20) NOT NULL,
  `PARAMS` varchar(20000) DEFAULT NULL,
  PRIMARY KEY (`TASK_ID`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE IF NOT EXISTS `site_status` (
  `SITE_NAME` varchar(255) NOT NULL,
  `STATUS` bit(1) DEFAULT NULL,
  `CREATION_TIMESTAMP` datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`SITE_NAME`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE IF NOT EXISTS `watchdog_distributionid_status` (
  `DISTRIBUTION_ID` varchar(45) NOT NULL,
  `DISTRIBUTION_ID_STATUS` varchar(45) DEFAULT NULL,
  `CREATE_TIME` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `MODIFY_TIME` datetime DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP,
  `LOCK_VERSION` int(11) NOT NULL,
  PRIMARY KEY (`DISTRIBUTION_ID`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE IF NOT EXISTS `watchdog_per_component_distribution_status` (
  `DISTRIBUTION_ID` varchar(45) NOT NULL,
  `COMPONENT_NAME` varchar(45) NOT NULL,
  `COMPONENT_DISTRIBUTION_STATUS` varchar(45) DEFAULT NULL,
  `CREATE_TIME` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `MODIFY_TIME` datetime DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`DISTRIBUTION_ID`, `COMPONENT_NAME`),
  CONSTRAINT `fk_watchdog_component_distribution_status_watchdog_distributi1`
    FOREIGN KEY (`DISTRIBUTION_ID`) REFERENCES `watchdog_distributionid_status` (`DISTRIBUTION_ID`)
    ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE IF NOT EXISTS `watchdog_service_mod_ver_id_lookup` (
  `DISTRIBUTION_ID` varchar(45) NOT NULL,
  `SERVICE_MODEL_VERSION_ID` varchar(45) NOT NULL,
  `DISTRIBUTION_NOTIFICATION` longtext,
  `CONSUMER_ID` varchar(200) DEFAULT NULL,
  `CREATE_TIME` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `MODIFY_TIME` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`DISTRIBUTION_ID`),
  KEY `watchdog_service_mod_ver_id_lookup_serv_mod_ver_id_idx` (`SERVICE_MODEL_VERSION_ID`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
