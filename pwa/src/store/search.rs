//! Product search over the local store: an index built once per read of the store (the
//! products with their stock, each with a lower-cased search key), so a keystroke filters
//! strings in memory instead of reading IndexedDB again.

use std::rc::Rc;

use crate::local::{Model, ProductRow};

/// The products of one read of the store, by name, ready to search.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductIndex {
    pub rows: Vec<ProductRow>,
    /// Each row's price as shown.
    pub prices: Vec<String>,
    keys: Vec<String>,
}

/// Lower-cased words of a query.
pub fn terms(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .map(str::to_lowercase)
        .filter(|t| !t.is_empty())
        .collect()
}

/// The search key of a product: its name and SKU, lower-cased.
pub fn key(name: &str, sku: &str) -> String {
    format!("{} {}", name.to_lowercase(), sku.to_lowercase())
}

/// Every term is in the key (anywhere: `rex red` finds "Rex the dinosaur, REX-L-RED").
pub fn matches(key: &str, terms: &[String]) -> bool {
    terms.iter().all(|t| key.contains(t.as_str()))
}

impl ProductIndex {
    pub fn build(model: &Model) -> ProductIndex {
        let rows = model.products();
        let keys = rows.iter().map(|p| key(&p.name, &p.sku)).collect();
        let prices = rows.iter().map(|p| model.money(p.price)).collect();
        ProductIndex { rows, prices, keys }
    }

    /// The positions of the rows that match, in name order (every row for an empty query).
    pub fn search(&self, query: &str) -> Vec<usize> {
        let t = terms(query);
        if t.is_empty() {
            return (0..self.rows.len()).collect();
        }
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, k)| matches(k, &t))
            .map(|(i, _)| i)
            .collect()
    }
}

/// A model compared by identity (the store hands out a new one after each read), so a
/// memo keyed on it rebuilds only when the store was read again.
#[derive(Clone)]
pub struct SameModel(pub Rc<Model>);

impl PartialEq for SameModel {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{key, matches, terms};

    #[test]
    fn every_word_must_match_name_or_sku() {
        let k = key("Rex the Dinosaur", "REX-L-RED");
        assert!(matches(&k, &terms("rex")));
        assert!(matches(&k, &terms("  DINO  red ")));
        assert!(matches(&k, &terms("l-red")));
        assert!(!matches(&k, &terms("rex blue")));
        assert!(matches(&k, &terms("")), "an empty query matches everything");
    }
}
