//! The proxy-wasm shell: the root context reads the configuration once, the HTTP context
//! moves headers and bytes between the host and `crate::gateway`. No XML, no rules here.

mod host;
mod http;
mod metrics;

use crate::config::{self, LogLevel};
use crate::gateway::Gateway;
use metrics::Metrics;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

#[derive(Default)]
struct Root {
    gateway: Option<Rc<Gateway>>,
    metrics: Rc<Metrics>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let Some(json) = host::plugin_configuration() else {
            log::error!("sita-sm-filter: configuration: missing (give a JSON document in the filter's configuration)");
            return false;
        };
        let env = |name: &str| std::env::var(name).ok();
        match config::parse(&json, &env) {
            Ok(settings) => {
                log::set_max_level(level_filter(settings.log_level));
                log::info!(
                    "sita-sm-filter: configured, direction {}",
                    settings.direction.as_str()
                );
                self.gateway = Some(Rc::new(Gateway::new(settings)));
                true
            }
            Err(message) => {
                log::error!("sita-sm-filter: configuration refused: {message}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let gateway = self.gateway.clone()?;
        Some(Box::new(http::Exchange::new(gateway, self.metrics.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

fn level_filter(level: LogLevel) -> log::LevelFilter {
    match level {
        LogLevel::Trace => log::LevelFilter::Trace,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Error => log::LevelFilter::Error,
    }
}
